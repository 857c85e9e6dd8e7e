import t, { type Test } from 'tap';
import { LifeguardFailure } from '../../src/checks/errors.js';
import {
  type CheckDefaults,
  isInvalidHeaderValue,
  parseCheckUrl,
  parseDurationValue,
  parseHeader,
  parseHost,
  parseInteger,
  parsePort,
  parseStatusList,
  parseUri,
} from '../../src/checks/parse.js';

const defaults: CheckDefaults = {
  timeoutMs: 1000,
  http: { expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false },
};

/** Every refusal is a usage error (exit 2) on one line that names the flag and quotes the value. */
function refuses(t: Test, fn: () => unknown, flag: string, value: string): void {
  try {
    fn();
    t.fail(`accepted ${flag} ${JSON.stringify(value)}`);
  } catch (error) {
    t.type(error, LifeguardFailure);
    const { exitCode, message } = (error as LifeguardFailure).error;
    t.equal(exitCode, 2, `${flag} ${JSON.stringify(value)}: exit 2`);
    const quoted = JSON.stringify(value).slice(1, -1); // control characters arrive escaped
    t.ok(message.includes(flag) && message.includes(`'${quoted}'`), `names flag and value: ${message}`);
    t.notMatch(message, /\n/, 'one line');
  }
}

t.test('ports: integers from 1 to 65535 only', async (t) => {
  t.equal(parsePort('--port', '1'), 1);
  t.equal(parsePort('--port', '65535'), 65535);
  for (const text of ['0', '65536', '-1', 'abc', '80.5', '', ' 80', '1e3', '0x50']) {
    refuses(t, () => parsePort('--port', text), '--port', text);
  }
});

t.test('integers with a minimum', async (t) => {
  t.equal(parseInteger('--failure-threshold', '3', 1), 3);
  t.equal(parseInteger('--heartbeat-fd', '0', 0), 0);
  for (const text of ['0', '-1', '1.5', 'two', '']) {
    refuses(t, () => parseInteger('--failure-threshold', text, 1), '--failure-threshold', text);
  }
});

t.test('durations: Go syntax, positive unless zero is allowed, within timer range', async (t) => {
  t.equal(parseDurationValue('--timeout', '1m30s', false), 90_000);
  t.equal(parseDurationValue('--startup-timeout', '0', true), 0);
  t.equal(parseDurationValue('--initial-delay', '0s', true), 0);
  for (const text of ['1x', '5', '-1s', '', '0', '0s', '1000h']) {
    refuses(t, () => parseDurationValue('--timeout', text, false), '--timeout', text);
  }
});

t.test('hosts: IP literals, bracketed IPv6 too, and DNS names', async (t) => {
  t.equal(parseHost('--host', '127.0.0.1'), '127.0.0.1');
  t.equal(parseHost('--host', '::1'), '::1');
  t.equal(parseHost('--host', '[::1]'), '::1');
  for (const name of ['localhost', 'db.internal', 'my-svc.ns.svc.cluster.local.', '_grpc.example', 'a1']) t.equal(parseHost('--host', name), name);
  for (const text of ['', '1.2.3', '999.1.1.1', '::g', '[localhost]', '[127.0.0.1]', '-db', 'db-', 'a b', 'a..b', `${'a'.repeat(64)}.x`]) {
    refuses(t, () => parseHost('--host', text), '--host', text);
  }
});

t.test('uris start with a slash and hold no spaces', async (t) => {
  t.equal(parseUri('--uri', '/health?full=1'), '/health?full=1');
  for (const text of ['health', '', '/a b', '/a\r\nX: y']) refuses(t, () => parseUri('--uri', text), '--uri', text);
});

t.test('status lists with ranges', async (t) => {
  t.same(parseStatusList('--expect-status', '200'), [{ min: 200, max: 200 }]);
  t.same(parseStatusList('--expect-status', '200-299,304'), [{ min: 200, max: 299 }, { min: 304, max: 304 }]);
  t.same(parseStatusList('--expect-status', ' 200 - 299 ,\t304'), [{ min: 200, max: 299 }, { min: 304, max: 304 }]);
  for (const text of ['', '2xx', '299-200', '99', '600', '200,', '200-', '-200', '200-300-400', '2000', '+200', '20 0', '2e2', '٢٠٠']) {
    refuses(t, () => parseStatusList('--expect-status', text), '--expect-status', text);
  }
});

t.test('headers: Name: value', async (t) => {
  t.same(parseHeader('--header', 'Authorization: Bearer a:b'), ['Authorization', 'Bearer a:b']);
  t.same(parseHeader('--header', 'X-Empty:'), ['X-Empty', '']);
  for (const text of ['NoColon', ': value', 'Bad Name: x', 'X: a\nb']) {
    refuses(t, () => parseHeader('--header', text), '--header', text);
  }
});

t.test('header values: HTAB, SP, visible ASCII and obs-text, nothing else (RFC 9110)', async (t) => {
  const allowed = (code: number): boolean => code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
  const wrong: number[] = [];
  for (let code = 0; code <= 0xffff; code++) if (isInvalidHeaderValue(`a${String.fromCharCode(code)}b`) === allowed(code)) wrong.push(code);
  t.same(wrong, [], 'every UTF-16 code unit');
  t.equal(isInvalidHeaderValue(''), false);
  t.equal(isInvalidHeaderValue('caf\xe9 \t x'), false);
  t.equal(isInvalidHeaderValue('\u{1f600}'), true, 'past latin1');
});

t.test('check URLs', async (t) => {
  t.same(parseCheckUrl('--check', 'tcp://:5432', defaults), { kind: 'tcp', port: 5432, timeoutMs: 1000 });
  t.same(parseCheckUrl('--check', 'tcp://[::1]:5432', defaults), { kind: 'tcp', host: '::1', port: 5432, timeoutMs: 1000 });
  t.same(parseCheckUrl('--check', 'tcp://:5432', { ...defaults, host: '10.0.0.5' }).host, '10.0.0.5', 'empty host: --host');
  t.same(parseCheckUrl('--check', 'http://127.0.0.1:8080/ready', defaults), {
    kind: 'http', host: '127.0.0.1', port: 8080, timeoutMs: 1000, path: '/ready', ...defaults.http,
  });
  const bare = parseCheckUrl('--check', 'http://:8080', defaults);
  t.equal(bare.kind === 'http' && bare.path, '/', 'no path: /');
  t.equal(parseCheckUrl('--check', 'http://[::1]/x', defaults).port, 80, 'no port: 80');
  t.match(parseCheckUrl('--check', 'https://localhost/x', defaults), { kind: 'http', host: 'localhost', port: 443, tls: { skipVerify: false } }, 'https: 443, verified');
  t.same(parseCheckUrl('--check', 'grpc://db.internal:50051/a.B', defaults), {
    kind: 'grpc', host: 'db.internal', port: 50051, timeoutMs: 1000, path: '/grpc.health.v1.Health/Check', service: 'a.B', metadata: [],
  });
  t.match(parseCheckUrl('--check', 'grpcs://:443', defaults), { kind: 'grpc', service: '', tls: { skipVerify: false } });
  for (const text of [
    'tcp://:0', 'tcp://', 'tcp://127.0.0.1', 'tcp://:5432/x', 'udp://:53', 'http://:8080ready', 'http://ho st:80/',
    'grpc://:', 'grpc://localhost', 'grpcs://:1/a b', 'tcp://-x:1',
    'http://[::1:80/', ':8080', 'http://:99999/', 'tcp://:abc', 'http://:80/a b', '',
  ]) {
    refuses(t, () => parseCheckUrl('--check', text, defaults), '--check', text);
  }  t.throws(() => parseCheckUrl('--check', 'tcp://127.0.0.1', defaults), { message: "invalid --check 'tcp://127.0.0.1': expected a port: tcp://127.0.0.1:PORT (tcp has no default port)" }, 'no port: said so');
  t.throws(() => parseCheckUrl('--check', 'grpc://localhost/my.Svc', defaults), { message: /expected a port: grpc:\/\/localhost:PORT\/my\.Svc / });
});
