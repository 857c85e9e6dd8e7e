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
    [{ checks: [{ tcp_check: { port: 1 }, http_check: { port: 1, path: '/' } }] }, 'checks[0]: expected exactly one of tcp_check, http_check or grpc_check'],
    [{ checks: [{ tcp_check: { port: 1 } }, {}] }, 'checks[1]: expected exactly one of tcp_check, http_check or grpc_check'],
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

t.test("lifeguard's extension fields: https, assertions and grpc_check, beside Diego's unchanged fields", async (t) => {
  const definition = parseCheckDefinition(
    {
      checks: [
        {
          http_check: {
            port: 8443,
            path: '/health',
            request_timeout_ms: 2000,
            tls: { ca_file: '/etc/ssl/ca.pem', server_name: 'api.internal', client_cert: '/c.pem', client_key: '/k.pem' },
            method: 'GET',
            expect_body_regex: '"status":\\s*"ok"',
            expect_headers: { 'Content-Type': '^application/json' },
          },
        },
        { http_check: { port: 8080, path: '/', method: 'HEAD' } },
        { http_check: { port: 8080, path: '/', expect_body: 'ok', tls: {} } },
        { grpc_check: { port: 50051, service: 'shop.Cart', request_timeout_ms: 3000, connect_timeout_ms: 500, tls: { skip_verify: true }, interval_ms: 1500 } },
        { grpc_check: { port: 50052 } },
      ],
    },
    defaults,
    source,
  );
  const [https, head, body, grpc, plainGrpc] = definition.checks;
  t.match(https, {
    kind: 'http',
    timeoutMs: 2000,
    tls: { skipVerify: false, caFile: '/etc/ssl/ca.pem', serverName: 'api.internal', clientCertFile: '/c.pem', clientKeyFile: '/k.pem' },
    method: 'GET',
    expectBody: { kind: 'regex', regex: /"status":\s*"ok"/ },
    expectHeaders: [{ name: 'Content-Type', regex: /^application\/json/ }],
    headers: [['X-A', 'b']],
  });
  t.match(head, { method: 'HEAD' });
  t.equal('tls' in (head ?? {}), false, 'no tls: plain HTTP');
  t.match(body, { expectBody: { kind: 'substring', text: 'ok' }, tls: { skipVerify: false } });
  t.same(grpc, {
    kind: 'grpc',
    host: '127.0.0.1',
    port: 50051,
    path: '/grpc.health.v1.Health/Check',
    service: 'shop.Cart',
    timeoutMs: 3000,
    metadata: [],
    connectTimeoutMs: 500,
    tls: { skipVerify: true },
  });
  t.match(plainGrpc, { kind: 'grpc', service: '', timeoutMs: 1000 });
  t.equal(definition.checksIntervalMs, 1500, 'a grpc_check interval counts too');
});

t.test('invalid extension fields: one line naming the field', async (t) => {
  const cases: [unknown, string][] = [
    [{ checks: [{ grpc_check: { port: 1 }, tcp_check: { port: 1 } }] }, 'checks[0]: expected exactly one of tcp_check, http_check or grpc_check'],
    [{ checks: [{ http_check: { port: 1, path: '/', tls: { ca: 'x' } } }] }, 'checks[0].http_check.tls.ca: unknown field'],
    [{ checks: [{ http_check: { port: 1, path: '/', tls: { client_cert: '/c.pem' } } }] }, 'checks[0].http_check.tls: expected client_cert and client_key together'],
    [{ checks: [{ http_check: { port: 1, path: '/', method: 'POST' } }] }, 'checks[0].http_check.method: expected "GET" or "HEAD", got "POST"'],
    [{ checks: [{ http_check: { port: 1, path: '/', expect_body_regex: '(' } }] }, 'checks[0].http_check.expect_body_regex: expected a regular expression in JavaScript syntax'],
    [{ checks: [{ http_check: { port: 1, path: '/', expect_body: 'a', expect_body_regex: 'b' } }] }, 'checks[0].http_check: expected one of expect_body or expect_body_regex, not both'],
    [{ checks: [{ http_check: { port: 1, path: '/', method: 'HEAD', expect_body: 'a' } }] }, 'checks[0].http_check: expected method GET with expect_body: a HEAD response has no body'],
    [{ checks: [{ grpc_check: { port: 1, service: 'a b' } }] }, 'checks[0].grpc_check.service: expected a service name without spaces, got "a b"'],
    [{ checks: [{ grpc_check: { port: 1, path: '/x' } }] }, 'checks[0].grpc_check.path: unknown field'],
  ];
  for (const [json, detail] of cases) t.equal(failure(json), `invalid ${source}: ${detail}`, detail);
});

t.test('success_threshold: our extension field, an integer of at least 1', async (t) => {
  const defaults = { timeoutMs: 1000, http: { expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } };
  t.equal(parseCheckDefinition({ checks: [{ tcp_check: { port: 1 } }], success_threshold: 2 }, defaults, 'x').successThreshold, 2);
  t.equal(parseCheckDefinition({ checks: [{ tcp_check: { port: 1 } }] }, defaults, 'x').successThreshold, undefined);
  t.throws(() => parseCheckDefinition({ checks: [{ tcp_check: { port: 1 } }], success_threshold: 0 }, defaults, 'x'), /success_threshold/);
});
