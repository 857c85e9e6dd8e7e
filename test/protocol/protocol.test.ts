// The agent/supervisor boundary, written and read by one module each: the argv the supervisor passes is what the
// agent's parser takes back; the heartbeat and the --json report round-trip; their readers, fuzzed, never throw
// and never accept a shape they did not verify (seeded: LIFEGUARD_SEED).
import fc from 'fast-check';
import t from 'tap';
import { parseNativeArgs } from '../../src/cli/healthcheck.js';
import { lifeguardError } from '../../src/checks/errors.js';
import type { CheckSpec } from '../../src/checks/types.js';
import type { AgentOutcome } from '../../src/engine/types.js';
import { type AgentRequest, agentArgv } from '../../src/protocol/argv.js';
import { BOOTED_BEAT, readHeartbeat, readyBeat, roundBeat } from '../../src/protocol/heartbeat.js';
import { readJsonReport, toJsonReport } from '../../src/protocol/report.js';
import { seedFromEnv } from '../reliability/seed.js';
import { getenvOf } from '../helpers/getenv.js';

const seed = seedFromEnv(65_536);

const port = fc.integer({ min: 1, max: 65535 });
const host = fc.constantFrom('127.0.0.1', '10.0.0.5', '::1', 'fd00::7');
const timeoutMs = fc.integer({ min: 1, max: 120_000 });
const tcp = fc.record({ kind: fc.constant('tcp' as const), host, port, timeoutMs });
const http = fc.record({
  kind: fc.constant('http' as const),
  host,
  port,
  timeoutMs,
  path: fc.constantFrom('/', '/health', '/a/b?c=d'),
  expectStatus: fc.constantFrom([{ min: 200, max: 200 }], [{ min: 200, max: 299 }, { min: 304, max: 304 }]),
  headers: fc.constantFrom([], [['X-Probe', 'lifeguard']] as [string, string][]),
  followRedirects: fc.boolean(),
});
const durationMs = fc.integer({ min: 1, max: 3_600_000 });

t.test('argv round trip: what the supervisor writes is what the agent parses', async (t) => {
  const request = fc.record(
    {
      mode: fc.constantFrom('readiness', 'liveness', 'once', 'lifecycle', 'until-ready'),
      checks: fc.array(fc.oneof(tcp, http), { minLength: 1, maxLength: 3 }),
      intervalMs: durationMs,
      initialDelayMs: fc.nat({ max: 60_000 }),
      failureThreshold: fc.integer({ min: 1, max: 10 }),
      successThreshold: fc.integer({ min: 1, max: 10 }),
    },
    { requiredKeys: ['mode', 'checks', 'intervalMs'] },
  );
  await fc.assert(
    fc.asyncProperty(request, async (raw) => {
      // One --timeout and one set of HTTP options for all checks (src/protocol/argv.ts): the request shares them.
      const longest = Math.max(...raw.checks.map((c) => c.timeoutMs));
      const firstHttp = raw.checks.find((c) => c.kind === 'http');
      const checks: CheckSpec[] = raw.checks.map((c) => (c.kind === 'http' && firstHttp?.kind === 'http' ? { ...firstHttp, ...c, expectStatus: firstHttp.expectStatus, headers: firstHttp.headers, followRedirects: firstHttp.followRedirects, timeoutMs: longest } : { ...c, timeoutMs: longest }));
      const req: AgentRequest = { ...raw, checks, ...(raw.mode === 'lifecycle' ? { startupIntervalMs: 500, startupTimeoutMs: 30_000, readinessChecks: [checks[0]!] } : {}), heartbeatFd: 1 };
      const invocation = await parseNativeArgs(agentArgv(req), getenvOf());
      if (invocation.kind !== 'run') throw new Error('not a run');
      const { options } = invocation;
      t.same(options.checks, checks);
      t.equal(options.mode, req.mode);
      t.equal(options.intervalMs, req.intervalMs);
      t.equal(options.failureThreshold, req.failureThreshold ?? 1);
      t.equal(options.initialDelayMs, req.initialDelayMs ?? 0);
      t.equal(options.successThreshold, req.successThreshold);
      if (req.mode === 'lifecycle') t.match(options, { startupIntervalMs: 500, startupTimeoutMs: 30_000, readinessChecks: [checks[0]] });
      t.equal(invocation.heartbeatFd, 1);
    }),
    { seed, numRuns: 200 },
  );
});

t.test('heartbeat round trip', async (t) => {
  await fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e9 }), fc.boolean(), fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (attempt, passed, elapsedMs, latencyMs) => {
      const beat = readHeartbeat(roundBeat({ attempt, passed, elapsedMs, latencyMs, lateMs: 0 }).trimEnd());
      t.match(beat, { kind: 'round', attempt, passed, elapsedMs: Math.round(elapsedMs) });
      t.ok(beat?.kind === 'round' && Math.abs(beat.latencyMs - latencyMs) <= 0.05 + 1e-9);
    }),
    { seed, numRuns: 300 },
  );
  t.same(readHeartbeat(readyBeat(1234.4).trimEnd()), { kind: 'ready', elapsedMs: 1234 });
  t.same(readHeartbeat(BOOTED_BEAT.trimEnd()), { kind: 'booted' });
});

t.test('the heartbeat reader: anything else is not a heartbeat, never an exception', async (t) => {
  for (const line of ['', 'healthcheck: boom', '{', '{}', 'null', '{"attempt":0,"passed":true,"elapsedMs":1,"latencyMs":1}', '{"attempt":1,"passed":"yes","elapsedMs":1,"latencyMs":1}', '{"attempt":1,"passed":true,"elapsedMs":-1,"latencyMs":1}', '{"ready":"true","elapsedMs":1}', '{"attempt":1.5,"passed":true,"elapsedMs":1,"latencyMs":1}']) {
    t.equal(readHeartbeat(line), undefined, line);
  }
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (line) => {
      const beat = readHeartbeat(line);
      if (beat === undefined || beat.kind === 'booted') return;
      // Whatever it accepted is a well-formed heartbeat.
      if (!(Number.isFinite(beat.elapsedMs) && beat.elapsedMs >= 0)) throw new Error(`accepted ${line}`);
      if (beat.kind === 'round' && !(Number.isSafeInteger(beat.attempt) && beat.attempt >= 1 && typeof beat.passed === 'boolean')) throw new Error(`accepted ${line}`);
    }),
    { seed, numRuns: 3000 },
  );
});

t.test('the report reader: mutated reports are read whole or refused, never thrown on', async (t) => {
  const refused = lifeguardError('tcp-failed', { host: '127.0.0.1', port: 1, reason: 'connect: connection refused' });
  const outcome: AgentOutcome = {
    mode: 'liveness', end: 'failed', passed: false, timedOut: false, exitCode: 4, elapsedMs: 10, attempts: 2, failure: refused,
    checks: [{ target: 'tcp://127.0.0.1:1', kind: 'tcp', passed: false, lastError: refused, lastLatencyMs: 0.2 }, { target: 'tcp://127.0.0.1:2', kind: 'tcp', passed: true, lastLatencyMs: 0.1 }],
  };
  const written = toJsonReport(outcome);
  t.same(readJsonReport(JSON.stringify(written))?.checks, outcome.checks);
  const keys = ['mode', 'passed', 'exitCode', 'checks', 'target', 'kind', 'lastError', 'lastLatencyMs', 'code', 'message'];
  const mutate = (value: unknown, key: string, replacement: unknown): unknown => {
    if (Array.isArray(value)) return value.map((v) => mutate(v, key, replacement));
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === key ? replacement : mutate(v, key, replacement)]));
  };
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 }), (key, replacement) => {
      const read = readJsonReport(JSON.stringify(mutate(written, key, replacement)));
      if (read === undefined) return;
      for (const check of read.checks) {
        if (typeof check.target !== 'string' || typeof check.passed !== 'boolean') throw new Error('accepted a malformed check');
        if (check.lastError !== undefined && typeof check.lastError.message !== 'string') throw new Error('accepted a malformed error');
      }
    }),
    { seed, numRuns: 2000 },
  );
  fc.assert(fc.property(fc.string(), (text) => void readJsonReport(text)), { seed, numRuns: 2000 });
});
