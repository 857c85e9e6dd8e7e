/**
 * Whether a text is an IP address literal, with the answers of node:net's isIP: an IPv4 dotted quad (four
 * decimal octets, no leading zero) or an IPv6 address in any RFC 4291 text form (`::` once at most, an IPv4 tail,
 * a `%zone` suffix). Written here because the single executable runs on Bun, where importing node:net to ask
 * costs every start about 3 ms of CPU; test/checks/ip-literal.test.ts holds it to isIP's answers.
 */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const ZONE = /^[0-9A-Za-z.:-]+$/;

export function isIpLiteral(text: string): boolean {
  return IPV4.test(text) || isIpv6(text);
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
  const tailIsV4 = last !== undefined && !endsWithGap && IPV4.test(last);
  const hex = tailIsV4 ? all.slice(0, -1) : all;
  if (!hex.every((group) => HEX_GROUP.test(group))) return false;
  const count = hex.length + (tailIsV4 ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}
