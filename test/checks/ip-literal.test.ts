// isIpLiteral must answer as node:net's isIP does (the agent used isIP before it ran on Bun): known cases,
// then random texts built from the characters of address literals, compared with isIP one by one.
import fc from 'fast-check';
import { isIP } from 'node:net';
import t from 'tap';
import { isIpLiteral } from '../../src/checks/ip-literal.js';
import { seedFromEnv } from '../reliability/seed.js';

const seed = seedFromEnv(4291);

t.test('known literals and near misses', async (t) => {
  const cases = [
    '127.0.0.1', '0.0.0.0', '255.255.255.255', '10.99.0.1', '256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.4 ',
    '::', '::1', '1::', 'fe80::1%eth0', 'fe80::1%', '::ffff:10.0.0.1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
    '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1::', '1:::2', '1.2.3.4::', '12345::', 'g::1', '[::1]', '',
    'localhost', '::1.2.3.4', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '::1:2:3:4:5:6:7:8',
  ];
  for (const text of cases) t.equal(isIpLiteral(text), isIP(text) !== 0, JSON.stringify(text));
});

t.test('random texts: the same answer as isIP', async () => {
  const char = fc.constantFrom(...'0123456789abcdefABCDEFg:.%-'.split(''), '::', '255', '1.2.3.4', 'ffff');
  const noise = fc.array(char, { maxLength: 16 }).map((parts) => parts.join(''));
  // Real addresses too, alone and with noise around them, so that the valid side is explored as well.
  const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended());
  const text = fc.oneof(noise, address, fc.tuple(noise, address, noise).map((parts) => parts.join('')));
  fc.assert(
    fc.property(text, (s) => isIpLiteral(s) === (isIP(s) !== 0)),
    { seed, numRuns: 20_000 },
  );
});
