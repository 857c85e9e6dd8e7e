/**
 * Whether a text is an IP address literal, with the answers of node:net's isIP: an IPv4 dotted quad (four
 * decimal octets, no leading zero) or an IPv6 address in any RFC 4291 text form (`::` once at most, an IPv4 tail,
 * a `%zone` suffix). Written here because the single executable runs on Bun, where importing node:net to ask
 * costs every start about 3 ms of CPU; test/checks/ip-literal.test.ts holds it to isIP's answers.
 */
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const ZONE = /^[0-9A-Za-z.:-]+$/;

export function isIpLiteral(text: string): boolean {
  return isIpv4(text) || isIpv6(text);
}

const DOT = 0x2e;
const DIGIT_0 = 0x30;

/**
 * Four decimal octets (0–255, no leading zero) joined by dots; read character by character, as a supervisor asks
 * at every check of every instance (a regular expression of alternations cost more than the rest of the dial).
 */
function isIpv4(text: string): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  // One past the end stands for a dot, which closes the last octet.
  for (let i = 0; i <= text.length; i++) {
    const code = i === text.length ? DOT : text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || octets === 4) return false;
      octets += 1;
      value = 0;
      digits = 0;
      continue;
    }
    const digit = code - DIGIT_0;
    if (digit < 0 || digit > 9 || (digits > 0 && value === 0)) return false;
    value = value * 10 + digit;
    digits += 1;
    if (value > 255) return false;
  }
  return octets === 4;
}

function isIpv6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent !== -1 && !ZONE.test(text.slice(percent + 1))) return false;
  const address = percent === -1 ? text : text.slice(0, percent);
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  // A dotted quad may stand for the last two groups, at the very end of the text only (not before a final `::`).
  const last = all.at(-1);
  const endsWithGap = halves.length === 2 && groups[1]!.length === 0;
  const tailIsV4 = last !== undefined && !endsWithGap && isIpv4(last);
  const hex = tailIsV4 ? all.slice(0, -1) : all;
  if (!hex.every((group) => HEX_GROUP.test(group))) return false;
  const count = hex.length + (tailIsV4 ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}
