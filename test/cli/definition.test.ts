// --definition end to end: Diego CheckDefinition JSON from a file or stdin. Each invalid shape is covered
// in test/checks/definition.test.ts; here, that the CLI picks the right list and reports problems as usage errors.
import t from 'tap';
import { closedPort, httpServer } from '../checks/fixtures.js';
import { runAgent } from '../helpers/agent.js';

t.test('checks for liveness, readiness_checks for readiness and once', async (t) => {
  const ok = await httpServer(t, (_req, res) => res.end());
  const refused = await closedPort();
  const dir = t.testdir({
    'def.json': JSON.stringify({
      checks: [{ tcp_check: { port: refused, connect_timeout_ms: 500 } }],
      readiness_checks: [{ http_check: { port: ok, path: '/ready', request_timeout_ms: 1000 } }],
      log_source: 'HEALTH',
    }),
  });
  const args = ['--host', '127.0.0.1', '--definition', `${dir}/def.json`];
  t.equal((await runAgent([...args, '--mode', 'readiness'])).code, 0, 'readiness_checks pass');
  t.equal((await runAgent(args)).code, 0, 'once uses readiness_checks too');
  const liveness = await runAgent([...args, '--mode', 'liveness', '--interval', '100ms']);
  t.equal(liveness.code, 4, 'checks fail');
  t.match(liveness.stdout, `failed to make TCP connection to 127.0.0.1:${refused}`);
});

t.test('without readiness_checks, readiness uses checks; stdin with -', async (t) => {
  const refused = await closedPort();
  const json = JSON.stringify({ checks: [{ http_check: { port: refused, path: '/health' } }] });
  const ended = await runAgent(['--host', '127.0.0.1', '--definition', '-'], { input: json });
  t.equal(ended.code, 5);
  t.match(ended.stdout, `failed to make HTTP request to '/health' on 127.0.0.1:${refused}`);
});

t.test('--check adds to the definition', async (t) => {
  const ok = await httpServer(t, (_req, res) => res.end());
  const refused = await closedPort();
  const json = JSON.stringify({ checks: [{ http_check: { port: ok, path: '/' } }] });
  const ended = await runAgent(['--host', '127.0.0.1', '--definition', '-', '--check', `tcp://:${refused}`], { input: json });
  t.equal(ended.code, 4);
  t.match(ended.stdout, /1 of 2 checks failed/);
});

t.test('interval_ms sets the interval unless --interval is given', async (t) => {
  let requests = 0;
  const port = await httpServer(t, (_req, res) => {
    requests += 1;
    res.statusCode = requests < 3 ? 503 : 200;
    res.end();
  });
  const json = JSON.stringify({ checks: [{ http_check: { port, path: '/', interval_ms: 100 } }] });
  const ended = await runAgent(['--host', '127.0.0.1', '--definition', '-', '--mode', 'readiness'], { input: json });
  t.equal(ended.code, 0);
  t.ok(ended.elapsedMs < 1900, `three rounds 100ms apart, not 2s apart (${Math.round(ended.elapsedMs)}ms)`);
});

t.test('invalid definitions are one usage line naming the field', async (t) => {
  const cases: [string, string][] = [
    ['{"checks":[{"tcp_check":{"port":8080},"http_check":{"port":8080,"path":"/"}}]}', 'checks[0]: expected exactly one of tcp_check, http_check or grpc_check'],
    ['{"checks":[{}]}', 'checks[0]: expected exactly one of tcp_check, http_check or grpc_check'],
    ['{"checks":[{"tcp_check":{"port":0}}]}', 'checks[0].tcp_check.port'],
    ['{"checks":[{"tcp_check":{"port":70000}}]}', 'checks[0].tcp_check.port'],
    ['{"checks":[{"tcp_check":{"port":"8080"}}]}', 'checks[0].tcp_check.port'],
    ['{"checks":[{"tcp_check":{"port":1}},{"http_check":{"port":1,"path":"/","verb":"GET"}}]}', 'checks[1].http_check.verb: unknown field'],
    ['{"checks":[{"http_check":{"port":1,"path":"health"}}]}', 'checks[0].http_check.path'],
    ['{"checks":[]}', 'no checks for --mode=once'],
    ['{"checks": [', "not JSON"],
    ['', 'not JSON'],
  ];
  for (const [json, fragment] of cases) {
    const ended = await runAgent(['--definition', '-'], { input: json });
    t.equal(ended.code, 2, json);
    t.match(ended.stderr, /^invalid --definition '-': [^\n]+\n$/);
    t.ok(ended.stderr.includes(fragment), `${ended.stderr.trim()} holds ${fragment}`);
  }
});
