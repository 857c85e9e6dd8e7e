import type { LifeguardError } from '../checks/errors.js';
import { lookUpHostAddress } from '../checks/host.js';
import { formatTarget } from '../checks/target.js';
import type { CheckSpec } from '../checks/types.js';
import { type LifecycleContext, runLifecycle } from '../engine/lifecycle.js';
import { runLoop } from '../engine/probe-loop.js';
import { checkRound } from '../engine/check-round.js';
import type { AgentOptions, AgentOutcome } from '../engine/types.js';

export interface AgentContext extends LifecycleContext {
  /** Milliseconds since the process started (`fromProcessStart`); process.uptime() unless a test fakes it. */
  readonly processUptimeMs?: () => number;
}

const processUptimeMs = (): number => process.uptime() * 1e3;

/**
 * Runs the checks in one of the modes and resolves with the outcome. Never rejects.
 *
 * Lifecycle is readiness, then liveness in the same process (as an executor runs its startup step, then its
 * liveness step): the liveness phase starts with fresh counters at the moment readiness passed, and the
 * startup timeout only bounds the first phase.
 *
 * Checks without a host are pointed at this machine's first non-loopback IPv4 address, looked up once at the
 * start; when there is none the agent ends at once with exit 3 rather than retrying, because an address that is
 * missing when the agent starts in a container does not appear later. (node:os, which the lookup reads, is
 * loaded then only: an agent given its host does not pay for it at start.) A round runs its checks in this
 * process (checkRound). Here and below, loops rather than array builtins (map, some): each builtin's first run
 * costs every start page faults (bench:agent).
 */
export async function runAgent(options: AgentOptions, ctx: AgentContext = {}): Promise<AgentOutcome> {
  const { mode, checks, readinessChecks = checks, startupIntervalMs, interfaceRule, fromProcessStart, ...rest } = options;
  const needsHost = hostless(checks) || hostless(readinessChecks);
  const address = needsHost ? await lookUpHostAddress(interfaceRule ?? 'lifeguard') : undefined;
  if (typeof address === 'object') return noInterface(options, address);
  const aim = (specs: readonly CheckSpec[]): readonly CheckSpec[] => {
    if (address === undefined) return specs;
    const aimed: CheckSpec[] = [];
    for (const spec of specs) aimed.push(spec.host === undefined ? { ...spec, host: address } : spec);
    return aimed;
  };
  const specs = aim(checks);
  // Read as the loop starts: how long ago the process began is how late its first round is.
  const common = fromProcessStart ? { ...rest, ticksFromMsAgo: (ctx.processUptimeMs ?? processUptimeMs)() } : rest;
  if (mode !== 'lifecycle') return runLoop({ ...common, mode }, specs, checkRound, ctx);
  // The readiness check has just passed: the first liveness round waits an interval, as a ticker's first tick.
  const readiness = { mode: 'readiness', ...common, intervalMs: startupIntervalMs ?? common.intervalMs } as const;
  const liveness = { ...rest, mode: 'liveness', startupTimeoutMs: 0, initialDelayMs: common.intervalMs } as const;
  return runLifecycle({ options: readiness, checks: aim(readinessChecks) }, { options: liveness, checks: specs }, checkRound, ctx);
}

function hostless(specs: readonly CheckSpec[]): boolean {
  for (const spec of specs) if (spec.host === undefined) return true;
  return false;
}

function noInterface(options: AgentOptions, error: LifeguardError): AgentOutcome {
  return {
    mode: options.mode === 'lifecycle' ? 'readiness' : options.mode,
    end: 'failed',
    passed: false,
    timedOut: false,
    exitCode: error.exitCode,
    elapsedMs: 0,
    attempts: 0,
    failure: error,
    checks: options.checks.map((spec) => ({
      target: formatTarget(spec),
      kind: spec.kind,
      passed: false,
      ...(spec.host === undefined ? { lastError: error } : {}),
    })),
  };
}
