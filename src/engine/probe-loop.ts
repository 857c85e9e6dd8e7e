import type { LifeguardError } from '../checks/errors.js';
import { CHECK_CANCELLED as CANCELLED } from '../checks/reason.js';
import type { CheckSpec } from '../checks/types.js';
import { CheckCounter } from './check-counter.js';
import { type Clock, realClock, type Timer } from '../checks/clock.js';
import { TickClock } from './ticks.js';
import type { AgentOutcome, LoopEnd, LoopMode, LoopOptions, RoundObserver, RunRound, VerdictObserver } from './types.js';

/**
 * The probe loop, the one place where rounds, thresholds and deadlines are decided. The agent runs it in its own
 * process over the check engine; native probing runs it in the supervisor over the same engine; oneshot probing
 * runs it with a round that is one `healthcheck --mode=once` process. Only how a round is run differs.
 *
 * Readiness does not run a check again once it has passed: "every check has passed at least once" is what it
 * waits for, and probing a ready dependency again would only add load. Its startup timeout counts from the
 * loop's start, initial delay included, as an operator's start timeout counts from the start.
 */
export interface LoopContext {
  readonly clock?: Clock;
  /** Cancels everything in flight; the loop then resolves at once with the `cancelled` end. */
  readonly signal?: AbortSignal;
  readonly onRound?: RoundObserver;
  /** The `routing` mode's verdict after every round that has one; the other modes end on theirs instead. */
  readonly onVerdict?: VerdictObserver;
}

type Verdict = { readonly end: 'passed' } | { readonly end: 'failed'; readonly failure: LifeguardError };
const PASSED: Verdict = { end: 'passed' };

/** What sets the modes apart; everything else (clock, rounds, cancellation) they share. */
interface ModePolicy {
  /** One pass is for good: a check that passed is not run again. */
  readonly sticky: boolean;
  /** The startup timeout applies. */
  readonly startupDeadline: boolean;
  /** A verdict ends the run; otherwise it is told (onVerdict) and the loop goes on until cancelled. */
  readonly endsOnVerdict: boolean;
  /** After each round, given the verdict before it: a verdict, or undefined (none yet). */
  judge(counters: readonly CheckCounter[], failureThreshold: number, previous: Verdict | undefined): Verdict | undefined;
}

const MODES: Readonly<Record<LoopMode, ModePolicy>> = {
  readiness: { sticky: true, startupDeadline: true, endsOnVerdict: true, judge: everyPassedOnce },
  'until-ready': { sticky: true, startupDeadline: false, endsOnVerdict: true, judge: everyPassedOnce },
  liveness: { sticky: false, startupDeadline: false, endsOnVerdict: true, judge: firstAtThreshold },
  once: { sticky: false, startupDeadline: false, endsOnVerdict: true, judge: firstFailure },
  routing: { sticky: false, startupDeadline: false, endsOnVerdict: false, judge: withHysteresis },
};

function everyPassedOnce(counters: readonly CheckCounter[]): Verdict | undefined {
  return counters.every((counter) => counter.passedOnce) ? PASSED : undefined;
}

function firstAtThreshold(counters: readonly CheckCounter[], failureThreshold: number): Verdict | undefined {
  for (const counter of counters) {
    const last = counter.lastResult;
    if (last !== undefined && !last.passed && counter.failuresInARow >= failureThreshold) return { end: 'failed', failure: last.error };
  }
  return undefined;
}

/**
 * Routing's verdict moves only at a threshold, in the manner of a Kubernetes readiness probe: a failure once one
 * check has failed failureThreshold times in a row, a pass once every check has passed successThreshold times
 * in a row; in between, the verdict stays what it was (none before the first).
 */
function withHysteresis(counters: readonly CheckCounter[], failureThreshold: number, previous: Verdict | undefined): Verdict | undefined {
  return firstAtThreshold(counters, failureThreshold) ?? (counters.every((counter) => counter.atSuccessThreshold) ? PASSED : previous);
}

function firstFailure(counters: readonly CheckCounter[]): Verdict {
  for (const counter of counters) {
    const last = counter.lastResult;
    if (last !== undefined && !last.passed) return { end: 'failed', failure: last.error };
  }
  return PASSED;
}

export function runLoop(options: LoopOptions, checks: readonly CheckSpec[], runRound: RunRound, ctx: LoopContext = {}): Promise<AgentOutcome> {
  return new ProbeLoop(options, checks, runRound, ctx).run();
}

/** Node's events.defaultMaxListeners: an EventTarget with more listeners for one event makes it warn. */
const NODE_DEFAULT_MAX_LISTENERS = 10;

/**
 * One run of the loop. It owns everything that can be in flight (the round's abort controller, the wait between
 * rounds, the startup deadline, the caller's abort listener) so that one abort cancels it all.
 * `state` says why the run is ending; only `running` goes on.
 */
class ProbeLoop {
  private state: 'running' | 'timed-out' | 'cancelled' = 'running';
  private readonly policy: ModePolicy;
  private readonly counters: CheckCounter[];
  /** Every check, for the modes that run them all each round (a liveness agent runs for months: no garbage). */
  private readonly specs: readonly CheckSpec[];
  private readonly controller = new AbortController();
  private readonly clock: Clock;
  private readonly started: number;
  private attempts = 0;
  private sleepTimer: Timer | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: LoopOptions,
    checks: readonly CheckSpec[],
    private readonly runRound: RunRound,
    private readonly ctx: LoopContext,
  ) {
    this.policy = MODES[options.mode];
    this.clock = ctx.clock ?? realClock;
    this.started = this.clock.now();
    const successThreshold = Math.max(1, options.successThreshold ?? 1);
    this.counters = checks.map((spec) => new CheckCounter(spec, successThreshold));
    this.specs = checks;
  }

  /** The caller's abort listener (an EventListener object). */
  handleEvent(): void {
    this.stop('cancelled');
  }

  async run(): Promise<AgentOutcome> {
    // Each check in flight listens once on the round's signal: as many as there are checks, and never more.
    // node:events is loaded only when that passes Node's default: in Bun it costs a start about 60 page faults.
    if (this.counters.length > NODE_DEFAULT_MAX_LISTENERS) (await import('node:events')).default.setMaxListeners(this.counters.length, this.controller.signal);
    const { signal } = this.ctx;
    if (signal?.aborted) this.stop('cancelled');
    else signal?.addEventListener('abort', this, { once: true });
    const { startupTimeoutMs } = this.options;
    const deadline = this.policy.startupDeadline && startupTimeoutMs > 0 ? this.clock.setTimeout(() => this.stop('timed-out'), startupTimeoutMs) : undefined;
    try {
      return await this.loop();
    } finally {
      this.clock.clearTimeout(deadline);
      signal?.removeEventListener('abort', this);
    }
  }

  private async loop(): Promise<AgentOutcome> {
    const { clock } = this;
    await this.sleep(this.options.initialDelayMs);
    // The first round runs now, on the last tick at or before it when the ticks began earlier: the ticks that passed
    // before it are not made up for, the next one falls due where it would have.
    const { intervalMs, ticksFromMsAgo = 0 } = this.options;
    const behind = intervalMs > 0 ? ticksFromMsAgo % intervalMs : 0;
    const ticks = new TickClock(clock.now() - behind, intervalMs, this.options.phaseShiftMs ?? 0);
    const threshold = Math.max(1, this.options.failureThreshold);
    let verdict: Verdict | undefined;
    for (;;) {
      if (this.state !== 'running') return this.stopped();
      const roundStart = clock.now();
      const lateMs = ticks.lateness(roundStart);
      const passed = await this.round(roundStart);
      if (this.state !== 'running') return this.stopped();
      this.attempts += 1;
      const now = clock.now();
      this.ctx.onRound?.({ attempt: this.attempts, passed, elapsedMs: now - this.started, latencyMs: now - roundStart, lateMs });
      verdict = this.policy.judge(this.counters, threshold, verdict);
      if (verdict !== undefined) {
        if (this.policy.endsOnVerdict) return this.outcome(verdict.end, verdict.end === 'failed' ? verdict.failure : undefined);
        this.ctx.onVerdict?.({ passed: verdict.end === 'passed', checks: this.reports() });
      }
      await this.sleep(ticks.delayToNextRound(clock.now()));
    }
  }

  /** Runs this round's checks side by side and says whether every one of them passed. */
  private async round(now: number): Promise<boolean> {
    const due = this.policy.sticky ? this.counters.filter((counter) => !counter.passedOnce) : this.counters;
    for (const counter of due) counter.began(now);
    const results = await this.runRound(due === this.counters ? this.specs : due.map((counter) => counter.spec), this.controller.signal);
    // A round the loop cancelled says nothing about the app.
    if (this.state !== 'running') return false;
    const ended = this.clock.now();
    let passed = true;
    due.forEach((counter, i) => {
      const result = results[i];
      if (result === undefined) return;
      counter.record(result, ended);
      passed &&= result.passed;
    });
    return passed;
  }

  /** The wait between rounds, which stop() cuts short; one timer and one promise, no listener. */
  private sleep(ms: number): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.clock.setTimeout(this.wakeUp, ms);
    });
  }

  private readonly wakeUp = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    this.sleepTimer = undefined;
    wake?.();
  };

  private stop(reason: 'timed-out' | 'cancelled'): void {
    if (this.state !== 'running') return;
    this.state = reason;
    this.controller.abort();
    this.clock.clearTimeout(this.sleepTimer);
    this.wakeUp();
  }

  private stopped(): AgentOutcome {
    return this.state === 'timed-out' ? this.outcome('timed-out', this.startupFailure()) : this.outcome('cancelled', undefined);
  }

  /**
   * A readiness timeout ends with the most recent failure of a check that never passed; when none of them
   * finished an attempt, with the timeout of the first one's kind after as long as it was waited for.
   */
  private startupFailure(): LifeguardError {
    const now = this.clock.now();
    const unpassed = this.counters.filter((counter) => !counter.passedOnce);
    const latest = unpassed.reduce<CheckCounter | undefined>((best, c) => (c.lastFailedAt > (best?.lastFailedAt ?? -Infinity) ? c : best), undefined);
    return (latest ?? unpassed[0])?.lastError(now, this.started) ?? CANCELLED;
  }

  private reports(): AgentOutcome['checks'] {
    const now = this.clock.now();
    return this.counters.map((counter) => counter.report(this.policy.sticky, now, this.started));
  }

  private outcome(end: LoopEnd, failure: LifeguardError | undefined): AgentOutcome {
    const now = this.clock.now();
    const outcome = {
      mode: this.options.mode,
      end,
      passed: end === 'passed',
      timedOut: end === 'timed-out',
      exitCode: end === 'passed' ? 0 : (failure ?? CANCELLED).exitCode,
      elapsedMs: now - this.started,
      attempts: this.attempts,
      checks: this.reports(),
    };
    return failure === undefined ? outcome : { ...outcome, failure };
  }
}
