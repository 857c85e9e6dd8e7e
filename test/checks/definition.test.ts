import t from 'tap';
import { LifeguardFailure } from '../../src/checks/errors.js';
import { parseCheckDefinition } from '../../src/checks/definition.js';
import type { CheckDefaults } from '../../src/checks/parse.js';

const defaults: CheckDefaults = {
  host: '127.0.0.1',
  timeoutMs: 1000,
  http: { expectStatus: [{ min: 200, max: 299 }], headers: [['X-A', 'b']], followRedirects: true },
};
const source = "--definition 'checks.json'";

function failure(json: unknown): string {
  try {
    parseCheckDefinition(json, defaults, source);
  } catch (error) {
    if (!(error instanceof LifeguardFailure)) throw error;
    if (error.error.exitCode !== 2) throw new Error(`exit ${error.error.exitCode}`);
    return error.error.message;
  }
  throw new Error(`accepted ${JSON.stringify(json)}`);
}

t.test('converts Diego checks, taking what Diego leaves out from the defaults', async (t) => {
  const definition = parseCheckDefinition(
    {
      checks: [
        { tcp_check: { port: 8080, connect_timeout_ms: 500, interval_ms: 3000 } },
        { http_check: { port: 8081, path: '/health', request_timeout_ms: 2000, interval_ms: 2000 } },
      ],
      log_source: 'HEALTH',
    },
    defaults,
    source,
  );
  t.same(definition.checks, [
    { kind: 'tcp', host: '127.0.0.1', port: 8080, timeoutMs: 500 },
    { kind: 'http', host: '127.0.0.1', port: 8081, path: '/health', timeoutMs: 2000, ...defaults.http },
  ]);
  t.same(definition.readinessChecks, definition.checks, 'no readiness_checks: checks are used');
  t.equal(definition.checksIntervalMs, 2000, 'the shortest interval_ms');
});

t.test('readiness_checks are used for readiness when present', async (t) => {
  const definition = parseCheckDefinition(
    { checks: [{ tcp_check: { port: 1 } }], readiness_checks: [{ http_check: { port: 2, path: '/ready' } }] },
    defaults,
    source,
  );
  t.same(definition.checks.map((c) => c.port), [1]);
  t.same(definition.readinessChecks.map((c) => c.port), [2]);
  t.same(definition.readinessChecks[0]!.timeoutMs, 1000, 'default timeout');
  t.equal(definition.readinessIntervalMs, undefined);
});

t.test('each invalid shape is one usage line naming the field path', async (t) => {
  const cases: [unknown, string][] = [
    [{ checks: [{ tcp_check: { port: 1 }, http_check: { port: 1, path: '/' } }] }, 'checks[0]: expected exactly one of tcp_check or http_check'],
    [{ checks: [{ tcp_check: { port: 1 } }, {}] }, 'checks[1]: expected exactly one of tcp_check or http_check'],
    [{ checks: [{ tcp_check: { port: 0 } }] }, 'checks[0].tcp_check.port: expected a port number from 1 to 65535, got 0'],
    [{ checks: [{ http_check: { port: 70000, path: '/' } }] }, 'checks[0].http_check.port: expected a port number from 1 to 65535, got 70000'],
    [{ checks: [{ tcp_check: { port: '8080' } }] }, 'checks[0].tcp_check.port: expected a port number from 1 to 65535, got "8080"'],
    [{ checks: [{ tcp_check: { port: 1, connect_timeout_ms: 1.5 } }] }, 'checks[0].tcp_check.connect_timeout_ms: expected a whole number of milliseconds, got 1.5'],
    [{ checks: [{ tcp_check: { port: 1, interval_ms: 0 } }] }, 'checks[0].tcp_check.interval_ms: expected a whole number of milliseconds above 0, got 0'],
    [{ checks: [{ tcp_check: { port: 1 } }, { http_check: { port: 1, path: '/', verb: 'GET' } }] }, 'checks[1].http_check.verb: unknown field'],
    [{ checks: [{ http_check: { port: 1, path: 'health' } }] }, `checks[0].http_check.path: expected a path starting with '/', without spaces, got "health"`],
    [{ checks: [{ http_check: { port: 1 } }] }, "checks[0].http_check.path: expected a path starting with '/'"],
    [{ checks: 'tcp' }, 'checks: expected array, got "tcp"'],
    [{ readiness_checks: [{ udp_check: {} }] }, 'readiness_checks[0].udp_check: unknown field'],
    [{ check: [] }, 'check: unknown field'],
    [[], 'definition: expected object, got []'],
    [null, 'definition: expected object, got null'],
  ];
  for (const [json, detail] of cases) t.equal(failure(json), `invalid ${source}: ${detail}`, detail);
});
