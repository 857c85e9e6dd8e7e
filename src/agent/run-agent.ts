import { monotonicMs } from '../checks/clock.js';
import { lifeguardError, type LifeguardError } from '../checks/errors.js';
import { findHostAddress } from '../checks/host.js';
import { formatTarget } from '../checks/target.js';
import type { CheckSpec } from '../checks/types.js';
import { Prober } from './prober.js';
import { TickClock } from './schedule.js';
import type { AgentMode, AgentOptions, AgentOutcome, RoundObserver } from './types.js';

export interface AgentContext {
  /** Cancels everything in flight; runAgent then resolves at once with the `cancelled` failure. */
  readonly signal?: AbortSignal;
  readonly onRound?: RoundObserver;
}

/** The failure of an agent stopped by its caller (SIGTERM, SIGINT); the CLI exits 128+signal instead. */
export const AGENT_CANCELLED = lifeguardError('internal', { detail: 'cancelled' });
const NO_INTERFACE = lifeguardError('no-interface', undefined);

/**
 * Runs the checks in one of the modes and resolves with the outcome. Never rejects.
 *
 * Readiness does not run a check again once it has passed: "every check has passed at least once" is what it
 * waits for, and probing a ready dependency again would only add load. Its startup timeout counts from this
 * call, initial delay included, as an operator's start timeout counts from the start.
 *
 * Checks without a host are pointed at this machine's first non-loopback IPv4 address, looked up once at the
 * start; when there is none the agent ends at once with exit 3 rather than retrying, because an address that is
 * missing when the agent starts in a container does not appear later.
 */
export function runAgent(options: AgentOptions, ctx: AgentContext = {}): Promise<AgentOutcome> {
  const needsHost = options.checks.some((spec) => spec.host === undefined);
  const address = needsHost ? findHostAddress() : undefined;
  if (needsHost && address === undefined) return Promise.resolve(noInterface(options));
  const specs = options.checks.map((spec): CheckSpec => (spec.host === undefined ? { ...spec, host: address } : spec));
  return new AgentRun(options, specs, ctx).run();
}

type Verdict = { readonly passed: true } | { readonly passed: false; readonly failure: LifeguardError };
const PASSED: Verdict = { passed: true };

/** What sets the modes apart; everything else (clock, rounds, cancellation) they share. */
interface ModePolicy {
  /** One pass is for good: a check that passed is not run again. */
  readonly sticky: boolean;
  /** The startup timeout applies. */
  readonly startupDeadline: boolean;
  /** After each round: a verdict ends the run, undefined goes on. */
  judge(probers: readonly Prober[], failureThreshold: number): Verdict | undefined;
}

const MODES: Readonly<Record<AgentMode, ModePolicy>> = {
  readiness: { sticky: true, startupDeadline: true, judge: everyPassedOnce },
  'until-ready': { sticky: true, startupDeadline: false, judge: everyPassedOnce },
  liveness: { sticky: false, startupDeadline: false, judge: firstAtThreshold },
  once: { sticky: false, startupDeadline: false, judge: firstFailure },
};

function everyPassedOnce(probers: readonly Prober[]): Verdict | undefined {
  for (const prober of probers) if (!prober.passedOnce) return undefined;
  return PASSED;
}

function firstAtThreshold(probers: readonly Prober[], failureThreshold: number): Verdict | undefined {
  for (const prober of probers) {
    const last = prober.lastResult;
    if (last !== undefined && !last.passed && prober.failuresInARow >= failureThreshold) {
      return { passed: false, failure: last.error };
    }
  }
  return undefined;
}

function firstFailure(probers: readonly Prober[]): Verdict {
  for (const prober of probers) {
    const last = prober.lastResult;
    if (last !== undefined && !last.passed) return { passed: false, failure: last.error };
  }
  return PASSED;
}

/**
 * One run of the agent. It owns everything that can be in flight (the checks' shared abort controller, the
 * wait between rounds, the startup deadline, the caller's abort listener) so that `stop` cancels it all at once.
 * `state` says why the run is ending; only `running` goes on.
 */
class AgentRun {
  private state: 'running' | 'timed-out' | 'aborted' = 'running';
  private readonly policy: ModePolicy;
  private readonly probers: Prober[];
  private readonly controller = new AbortController();
  private readonly started = monotonicMs();
  private attempts = 0;
  private deadline: NodeJS.Timeout | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Reused every round: a liveness agent runs for months, and a round should allocate as little as it can. */
  private readonly roundProbers: Prober[] = [];
  private readonly roundChecks: Promise<void>[] = [];

  constructor(
    private readonly options: AgentOptions,
    specs: readonly CheckSpec[],
    private readonly ctx: AgentContext,
  ) {
    this.policy = MODES[options.mode];
    this.probers = specs.map((spec) => new Prober(spec));
  }

  /** The caller's abort listener (an EventListener object). */
  handleEvent(): void {
    this.stop('aborted');
  }

  async run(): Promise<AgentOutcome> {
    const { signal } = this.ctx;
    if (signal?.aborted) this.stop('aborted');
    else signal?.addEventListener('abort', this, { once: true });
    const { startupTimeoutMs } = this.options;
    if (this.policy.startupDeadline && startupTimeoutMs > 0) {
      this.deadline = setTimeout(() => this.stop('timed-out'), startupTimeoutMs);
    }
    try {
      return await this.loop();
    } finally {
      clearTimeout(this.deadline);
      signal?.removeEventListener('abort', this);
    }
  }

  private async loop(): Promise<AgentOutcome> {
    await this.sleep(this.options.initialDelayMs);
    const clock = new TickClock(monotonicMs(), this.options.intervalMs);
    const threshold = Math.max(1, this.options.failureThreshold);
    for (;;) {
      const stopped = this.stoppedOutcome();
      if (stopped !== undefined) return stopped;
      const passed = await this.round();
      const cut = this.stoppedOutcome();
      if (cut !== undefined) return cut;
      this.attempts += 1;
      this.ctx.onRound?.({ attempt: this.attempts, passed, elapsedMs: monotonicMs() - this.started });
      const verdict = this.policy.judge(this.probers, threshold);
      if (verdict !== undefined) return this.outcome(verdict, false);
      await this.sleep(clock.delayToNextRound(monotonicMs()));
    }
  }

  /** Runs this round's checks side by side and says whether every one of them passed. */
  private async round(): Promise<boolean> {
    const { roundProbers, roundChecks } = this;
    roundProbers.length = 0;
    roundChecks.length = 0;
    for (const prober of this.probers) {
      if (this.policy.sticky && prober.passedOnce) continue;
      roundProbers.push(prober);
      roundChecks.push(prober.probe(this.controller.signal));
    }
    await Promise.all(roundChecks);
    for (const prober of roundProbers) if (prober.lastResult?.passed !== true) return false;
    return true;
  }

  private sleep(ms: number): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(this.wakeUp, ms);
    });
  }

  private readonly wakeUp = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    this.sleepTimer = undefined;
    wake?.();
  };

  private stop(reason: 'timed-out' | 'aborted'): void {
    if (this.state !== 'running') return;
    this.state = reason;
    this.controller.abort();
    clearTimeout(this.sleepTimer);
    this.wakeUp();
  }

  /** Undefined while running; otherwise how the run ends, for whichever reason stopped it. */
  private stoppedOutcome(): AgentOutcome | undefined {
    switch (this.state) {
      case 'running':
        return undefined;
      case 'aborted':
        return this.outcome({ passed: false, failure: AGENT_CANCELLED }, false);
      case 'timed-out':
        return this.outcome({ passed: false, failure: this.startupFailure() }, true);
    }
  }

  /**
   * A readiness timeout ends with the most recent failure of a check that never passed; when none of them
   * finished an attempt, with the timeout of the first one's kind.
   */
  private startupFailure(): LifeguardError {
    const now = monotonicMs();
    let latest: Prober | undefined;
    let firstUnpassed: Prober | undefined;
    for (const prober of this.probers) {
      if (prober.passedOnce) continue;
      firstUnpassed ??= prober;
      if (prober.lastFailedAt > (latest?.lastFailedAt ?? -Infinity)) latest = prober;
    }
    const decisive = latest ?? firstUnpassed;
    return decisive?.lastError(now, this.started) ?? AGENT_CANCELLED;
  }

  private outcome(verdict: Verdict, timedOut: boolean): AgentOutcome {
    const now = monotonicMs();
    const outcome = {
      mode: this.options.mode,
      passed: verdict.passed,
      exitCode: verdict.passed ? 0 : verdict.failure.exitCode,
      elapsedMs: now - this.started,
      attempts: this.attempts,
      timedOut,
      checks: this.probers.map((prober) => prober.report(this.policy.sticky, now, this.started)),
    };
    return verdict.passed ? outcome : { ...outcome, failure: verdict.failure };
  }
}

function noInterface(options: AgentOptions): AgentOutcome {
  return {
    mode: options.mode,
    passed: false,
    exitCode: NO_INTERFACE.exitCode,
    elapsedMs: 0,
    attempts: 0,
    timedOut: false,
    failure: NO_INTERFACE,
    checks: options.checks.map((spec) => ({
      target: formatTarget(spec),
      kind: spec.kind,
      passed: false,
      ...(spec.host === undefined ? { lastError: NO_INTERFACE } : {}),
    })),
  };
}
