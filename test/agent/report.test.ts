import t from 'tap';
import { formatTextReport } from '../../src/agent/report.js';
import { failureReason, readJsonReport, toJsonReport } from '../../src/protocol/report.js';
import type { AgentOutcome } from '../../src/engine/types.js';
import { lifeguardError } from '../../src/checks/errors.js';

const refused = lifeguardError('tcp-failed', { host: '10.0.0.5', port: 5432, reason: 'connect: connection refused' });
const status = lifeguardError('http-status', { uri: '/ready', host: '10.0.0.5', port: 8080, status: 503, latencyMs: 2 });

const readinessTimeout: AgentOutcome = {
  mode: 'readiness',
  end: 'timed-out',
  passed: false,
  exitCode: 6,
  elapsedMs: 60_004.4,
  attempts: 30,
  timedOut: true,
  failure: status,
  checks: [
    { target: 'tcp://10.0.0.5:5432', kind: 'tcp', passed: false, lastError: refused, lastLatencyMs: 0.123 },
    { target: 'http://10.0.0.5:8080/ready', kind: 'http', passed: false, lastError: status, lastLatencyMs: 2.26 },
    { target: 'tcp://10.0.0.5:8080', kind: 'tcp', passed: true, lastLatencyMs: 0.5 },
  ],
};

t.test('success says nothing', async (t) => {
  t.equal(formatTextReport({ ...readinessTimeout, passed: true, exitCode: 0, timedOut: false, checks: [] }), '');
});

t.test('a summary line, then one line per failing check', async (t) => {
  t.equal(
    formatTextReport(readinessTimeout),
    'readiness timed out after 60.00s (30 attempts): 2 of 3 checks never passed\n' +
      "failed to make TCP connection to 10.0.0.5:5432: connect: connection refused\n" +
      "failed to make HTTP request to '/ready' on 10.0.0.5:8080: received status code 503 in 2ms\n",
  );
  const liveness: AgentOutcome = { ...readinessTimeout, mode: 'liveness', timedOut: false, attempts: 1, checks: readinessTimeout.checks.slice(1) };
  t.equal(formatTextReport(liveness).split('\n')[0], 'liveness failed after 60.00s (1 attempt): 1 of 2 checks failing');
});

t.test('the --json object', async (t) => {
  t.same(toJsonReport(readinessTimeout), {
    mode: 'readiness',
    passed: false,
    exitCode: 6,
    elapsedMs: 60004,
    attempts: 30,
    checks: [
      { target: 'tcp://10.0.0.5:5432', kind: 'tcp', passed: false, lastError: refused, lastLatencyMs: 0.1 },
      { target: 'http://10.0.0.5:8080/ready', kind: 'http', passed: false, lastError: status, lastLatencyMs: 2.3 },
      { target: 'tcp://10.0.0.5:8080', kind: 'tcp', passed: true, lastError: null, lastLatencyMs: 0.5 },
    ],
  });
  t.same(JSON.parse(JSON.stringify(toJsonReport(readinessTimeout))).checks[0].lastError, {
    code: 'tcp-failed',
    exitCode: 4,
    message: 'failed to make TCP connection to 10.0.0.5:5432: connect: connection refused',
  });
});

t.test('readJsonReport reads back what an agent wrote, and nothing else', async (t) => {
  const written = {
    mode: 'once', passed: false, exitCode: 4, elapsedMs: 3, attempts: 1,
    checks: [{ target: 'tcp://127.0.0.1:1', kind: 'tcp', passed: false, lastError: { code: 'tcp-failed', exitCode: 4, message: 'refused' }, lastLatencyMs: 0.4 }],
  };
  t.same(readJsonReport(JSON.stringify(written)), {
    passed: false,
    exitCode: 4,
    checks: [{ target: 'tcp://127.0.0.1:1', kind: 'tcp', passed: false, lastError: { code: 'tcp-failed', exitCode: 4, message: 'refused' }, lastLatencyMs: 0.4 }],
  });
  for (const stdout of ['', '{"mode":"once"', 'null', '{"checks":"no"}', 'plain text']) t.equal(readJsonReport(stdout), undefined, JSON.stringify(stdout));
});

t.test('a report round-trips: what toJsonReport writes, readJsonReport reads back as the outcome held it', async (t) => {
  const read = readJsonReport(JSON.stringify(toJsonReport(readinessTimeout)));
  t.same(read?.checks.map((check) => [check.target, check.passed, check.lastError]), readinessTimeout.checks.map((check) => [check.target, check.passed, check.lastError]));
  t.equal(failureReason(read?.checks ?? []), failureReason(readinessTimeout.checks), 'the same reason, whoever ran the loop');
  t.equal(failureReason(readinessTimeout.checks), `${refused.message}; ${status.message}`);
});
