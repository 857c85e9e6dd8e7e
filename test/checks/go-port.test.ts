// goDialPort's reading of -port's text, against the regular expressions it replaced (an optional sign, then ASCII
// digits or nothing; anything else is a name to look up). End to end through the agent: test/cli/cf-port.test.ts.
import t from 'tap';
import { goDialPort } from '../../src/checks/go-port.js';

t.test('-port texts read as the regular expressions they replace read them', async (t) => {
  const byExpressions = (text: string): number | 'name' => {
    const digits = /^[+-]/.test(text) ? text.slice(1) : text;
    if (!/^\d*$/.test(digits)) return 'name';
    const magnitude = Math.min(Number(digits === '' ? 0 : digits), 2 ** 30);
    return text.startsWith('-') ? -magnitude : magnitude;
  };
  const texts = ['', '+', '-', '0', '80', '+80', '-80', '0080', '++80', '+-80', '8 0', ' 80', '80\n', '8e1', '0x50', '1.5', '\u0663', '8\u0660', 'http', '-http', '99999999999'];
  for (const text of texts) {
    const expected = byExpressions(text);
    const name = JSON.stringify(text);
    const go = goDialPort('10.0.0.5', text, () => undefined);
    if (expected === 'name') t.same(go, { error: `lookup tcp/${text}: unknown port` }, `${name}: a name`);
    else if (expected < 0 || expected > 65535) t.same(go, { error: `address ${text}: invalid port` }, `${name}: out of range`);
    else t.same(go, { port: expected }, `${name}: port ${expected}`);
  }
});
