// Cloud Foundry's -port is a string its Go binary pastes after the address and dials: what Go makes of it is what
// the CF dialect checks, and what Go cannot dial fails as its dial fails (exit 4 for TCP, at every attempt, in Go's
// words), not as a usage error. Expected words are that binary's (cloudfoundry/healthcheck at 6208b09, run side by
// side). The fixture server listens on NS_ADDRESS:8080 in the test's own namespace.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { withServer } from '../helpers/cf-server.js';
import { netnsSkip, NS_ADDRESS } from '../helpers/netns.js';

const A = NS_ADDRESS;
const servicesSkip = /^http-alt\s+8080\/tcp/m.test(safeRead('/etc/services')) ? false : 'needs /etc/services with http-alt 8080/tcp (netbase)';

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** [-port, Go's TCP failure after `failed to make TCP connection to ` ] */
const UNDIALABLE: readonly (readonly [string, string])[] = [
  ['-1', `${A}:-1: dial tcp: address -1: invalid port`],
  ['65536', `${A}:65536: dial tcp: address 65536: invalid port`],
  ['99999999999999', `${A}:99999999999999: dial tcp: address 99999999999999: invalid port`],
  ['no-such-service', `${A}:no-such-service: dial tcp: lookup tcp/no-such-service: unknown port`],
  ['1:2', `${A}:1:2: dial tcp: address ${A}:1:2: too many colons in address`],
  ['[1', `${A}:[1: dial tcp: address ${A}:[1: unexpected '[' in address`],
  // Dialed: port 0 (and an empty port, which Go reads as 0) is refused by the kernel.
  ['0', `${A}:0: dial tcp ${A}:0: connect: connection refused`],
  ['', `${A}:: dial tcp ${A}:0: connect: connection refused`],
  ['8081', `${A}:8081: dial tcp ${A}:8081: connect: connection refused`],
];

t.test('TCP: a -port Go cannot dial fails as its dial does, exit 4', { skip: netnsSkip }, async (t) => {
  for (const [port, words] of UNDIALABLE) {
    const ended = await withServer(t.testdir(), '200', [`-port=${port}`]);
    t.same([ended.code, ended.stdout, ended.stderr], [4, '', `failed to make TCP connection to ${words}\n`], `-port=${port}`);
  }
});

t.test("TCP: what Go resolves is dialed: a sign, leading zeros, a service name (any case) from /etc/services", { skip: netnsSkip || servicesSkip }, async (t) => {
  for (const port of ['+8080', '08080', 'http-alt', 'HTTP-ALT', 'webcache']) {
    const ended = await withServer(t.testdir(), '200', [`-port=${port}`]);
    t.same([ended.code, ended.stderr], [0, ''], `-port=${port} reaches 8080`);
  }
});

t.test('every mode fails so at every attempt: the startup timeout counts them, liveness ends on the first', { skip: netnsSkip }, async (t) => {
  const startup = await withServer(t.testdir(), '200', ['-port=-1', '-startup-interval=100ms', '-startup-timeout=2s']);
  t.equal(startup.code, 4);
  t.match(startup.stderr, new RegExp(`^Timed out after 2s \\(\\d+ attempts\\) waiting for startup check to succeed: failed to make TCP connection to ${A.replace(/\./g, '\\.')}:-1: dial tcp: address -1: invalid port\\n$`));
  const liveness = await withServer(t.testdir(), '200', ['-port=-1', '-liveness-interval=100ms']);
  t.same([liveness.code, liveness.stderr], [4, `Liveness check unsuccessful: failed to make TCP connection to ${A}:-1: dial tcp: address -1: invalid port\n`]);
});

t.test("HTTP: Go's URL takes digits only; what it dials fails as the dial does", { skip: netnsSkip }, async (t) => {
  for (const port of ['-1', 'http-alt', '+8080']) {
    const ended = await withServer(t.testdir(), '200', [`-port=${port}`, '-uri=/x']);
    t.same([ended.code, ended.stderr], [6, `failed to create an HTTP request to '/x' on port ${port}\n`], `-port=${port}: no request made`);
    t.equal(ended.requests.length, 0);
  }
  const tooBig = await withServer(t.testdir(), '200', ['-port=65536', '-uri=/x']);
  t.same([tooBig.code, tooBig.stderr], [5, "failed to make HTTP request to '/x' on port 65536: dial tcp: address 65536: invalid port\n"]);
  const zeros = await withServer(t.testdir(), '200', ['-port=08080', '-uri=/x']);
  t.same([zeros.code, zeros.stderr], [0, ''], '-port=08080 reaches 8080');
});

t.test('HTTP: a connection reset after the request is a failed request (exit 5), not a timeout', { skip: netnsSkip }, async (t) => {
  const ended = await withServer(t.testdir(), 'reset', ['-port=8080', '-uri=/x', '-timeout=5s']);
  t.same([ended.code, ended.stderr], [5, "failed to make HTTP request to '/x' on port 8080: read: connection reset by peer\n"]);
});
