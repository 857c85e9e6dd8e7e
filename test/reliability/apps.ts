// App specs for the fault tests, in config-file form: short timings so that every failure shows within seconds,
// a marker variable so that every app process of a run can be found in /proc, and a restart policy that loops
// quickly (or gives up quickly, where the test wants the churn to end).
import { FIXTURE_APP } from './cli-supervisor.js';

export const MARKER = 'LIFEGUARD_RELIABILITY_RUN';

export function fixtureApp(name: string, run: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { env, ...rest } = overrides as { env?: Record<string, string> };
  return {
    name,
    command: [process.execPath, FIXTURE_APP],
    env: { [MARKER]: run, ...env },
    instances: 1,
    ports: [8080],
    checks: [{ http_check: { port: 8080, path: '/health', request_timeout_ms: 400 } }],
    startTimeout: '4s',
    startupInterval: '100ms',
    livenessInterval: '200ms',
    probe: 'native',
    gracePeriod: '300ms',
    restart: { immediate: 1, backoffMin: '100ms', backoffMax: '200ms', maxRestarts: 2, resetAfter: '1m' },
    ...rest,
  };
}

/** A restart policy that never runs out during a test: every failure is replaced at once. */
export const LOOP_FOREVER = { immediate: 10_000, backoffMin: '0s', backoffMax: '0s', maxRestarts: 10_000, resetAfter: '1m' };
