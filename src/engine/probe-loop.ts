import { CancelScope, type Cancel, type CancellableWork, unwatchCancel, watchCancel } from '../checks/cancel.js';
import { deferred } from '../checks/deferred.js';
import type { LifeguardError } from '../checks/errors.js';
import { checkCancelled } from '../checks/reason.js';
import type { CheckResult, CheckSpec } from '../checks/types.js';
import { CheckCounter } from './check-counter.js';
import { type Clock, realClock, type Timer } from '../checks/clock.js';
import { TickClock } from './ticks.js';
import type { AgentOutcome, CheckReport, LoopEnd, LoopMode, LoopOptions, RoundObserver, RunRound, VerdictObserver } from './types.js';

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
  /**
   * Cancels everything in flight; the loop then resolves at once with the `cancelled` end. An AbortSignal, or a
   * CancelScope, which spares the loop an event listener (cancel.ts).
   */
  readonly signal?: Cancel;
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

/**
 * One run of the loop, as an explicit state machine driven by callbacks: a timer between rounds, the round in
 * flight telling roundDone, no async frame and no promise per wait or round (the supervisor runs one per
 * instance, for months).
 * It owns everything that can be in flight (the round's cancel scope, the wait between rounds, the startup
 * deadline, its registration with the caller's cancel) so that one stop cancels it all. `state` says why the
 * run is ending; only `running` goes on, and `ended` has resolved.
 */
class ProbeLoop implements CancellableWork {
  private state: 'running' | 'timed-out' | 'cancelled' | 'ended' = 'running';
  private readonly policy: ModePolicy;
  private readonly counters: CheckCounter[];
  /** Every check, for the modes that run them all each round (a liveness agent runs for months: no garbage). */
  private readonly specs: readonly CheckSpec[];
  /** The checks of the round in flight. */
  private readonly scope = new CancelScope();
  private readonly clock: Clock;
  private readonly started: number;
  private readonly threshold: number;
  private attempts = 0;
  private ticks: TickClock | undefined;
  private verdict: Verdict | undefined;
  private sleepTimer: Timer | undefined;
  private deadline: Timer | undefined;
  /** The round in flight: its checks, when it started and how late. */
  private due: readonly CheckCounter[] = [];
  private roundStart = 0;
  private lateMs = 0;
  private resolve: ((outcome: AgentOutcome) => void) | undefined;

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
    // Loops rather than array builtins (map, forEach) on the way of a one-shot check: each builtin's first run costs
    // every start of the agent page faults (bench:agent).
    this.counters = [];
    for (const spec of checks) this.counters.push(new CheckCounter(spec, successThreshold));
    this.specs = checks;
    this.threshold = Math.max(1, options.failureThreshold);
  }

  /** Cancelled by the caller's scope, or its signal's abort listener. */
  cancel(): void {
    this.stop('cancelled');
  }

  handleEvent(): void {
    this.stop('cancelled');
  }

  run(): Promise<AgentOutcome> {
    const { promise, resolve } = deferred<AgentOutcome>();
    this.resolve = resolve;
    if (!watchCancel(this.ctx.signal, this)) {
      this.stop('cancelled');
      return promise;
    }
    const { startupTimeoutMs } = this.options;
    if (this.policy.startupDeadline && startupTimeoutMs > 0) this.deadline = this.clock.setTimeout(() => this.stop('timed-out'), startupTimeoutMs);
    // No delay, no timer: a one-shot agent's first connection is a timer turn sooner (bench:agent's spawn → connection).
    const { initialDelayMs } = this.options;
    if (initialDelayMs > 0) this.sleep(initialDelayMs, this.first);
    else this.first();
    return promise;
  }

  /**
   * The first round runs now, on the last tick at or before it when the ticks began earlier: the ticks that passed
   * before it are not made up for, the next one falls due where it would have.
   */
  private readonly first = (): void => {
    const { intervalMs, ticksFromMsAgo = 0 } = this.options;
    const behind = intervalMs > 0 ? ticksFromMsAgo % intervalMs : 0;
    this.ticks = new TickClock(this.clock.now() - behind, intervalMs, this.options.phaseShiftMs ?? 0);
    this.next();
  };

  /** Runs this round's checks side by side. */
  private readonly next = (): void => {
    this.sleepTimer = undefined;
    if (this.state !== 'running') return;
    const now = this.clock.now();
    this.roundStart = now;
    this.lateMs = (this.ticks as TickClock).lateness(now);
    const due = this.policy.sticky ? this.counters.filter((counter) => !counter.passedOnce) : this.counters;
    this.due = due;
    for (const counter of due) counter.began(now);
    this.runRound(due === this.counters ? this.specs : due.map((counter) => counter.spec), this.scope, this.roundDone);
  };

  private readonly roundDone = (results: readonly CheckResult[]): void => {
    // A round the loop cancelled says nothing about the app; the loop has ended already.
    if (this.state !== 'running') return;
    const { clock, due } = this;
    const ended = clock.now();
    let passed = true;
    for (let i = 0; i < due.length; i++) {
      const result = results[i];
      if (result === undefined) continue;
      (due[i] as CheckCounter).record(result, ended);
      passed &&= result.passed;
    }
    this.attempts += 1;
    this.ctx.onRound?.({ attempt: this.attempts, passed, elapsedMs: ended - this.started, latencyMs: ended - this.roundStart, lateMs: this.lateMs });
    // An observer may have stopped the loop.
    if (this.state !== 'running') return;
    const verdict = this.policy.judge(this.counters, this.threshold, this.verdict);
    this.verdict = verdict;
    if (verdict !== undefined) {
      if (this.policy.endsOnVerdict) return this.end(this.outcome(verdict.end, verdict.end === 'failed' ? verdict.failure : undefined));
      this.ctx.onVerdict?.({ passed: verdict.end === 'passed', checks: this.reports(this.clock.now()) });
      if (this.state !== 'running') return;
    }
    this.sleep((this.ticks as TickClock).delayToNextRound(clock.now()), this.next);
  };

  /** The wait between rounds: one timer on the clock, which stop() clears. */
  private sleep(ms: number, then: () => void): void {
    this.sleepTimer = this.clock.setTimeout(then, ms);
  }

  /** Ends the run at once, whatever is in flight: the round's checks are cancelled, and their results ignored. */
  private stop(reason: 'timed-out' | 'cancelled'): void {
    if (this.state !== 'running') return;
    this.state = reason;
    this.scope.cancel();
    this.end(this.stopped());
  }

  private end(outcome: AgentOutcome): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.clock.clearTimeout(this.sleepTimer);
    this.clock.clearTimeout(this.deadline);
    this.sleepTimer = undefined;
    this.deadline = undefined;
    unwatchCancel(this.ctx.signal, this);
    this.resolve?.(outcome);
  }

  /** One reading of the clock for the whole outcome: the failure and its check's report say the same time waited. */
  private stopped(): AgentOutcome {
    const now = this.clock.now();
    return this.state === 'timed-out' ? this.outcome('timed-out', this.startupFailure(now), now) : this.outcome('cancelled', undefined, now);
  }

  /**
   * A readiness timeout ends with the most recent failure of a check that never passed; when none of them
   * finished an attempt, with the timeout of the first one's kind after as long as it was waited for.
   */
  private startupFailure(now: number): LifeguardError {
    const unpassed = this.counters.filter((counter) => !counter.passedOnce);
    const latest = unpassed.reduce<CheckCounter | undefined>((best, c) => (c.lastFailedAt > (best?.lastFailedAt ?? -Infinity) ? c : best), undefined);
    return (latest ?? unpassed[0])?.lastError(now, this.started) ?? checkCancelled();
  }

  private reports(now: number): AgentOutcome['checks'] {
    const reports: CheckReport[] = [];
    for (const counter of this.counters) reports.push(counter.report(this.policy.sticky, now, this.started));
    return reports;
  }

  private outcome(end: LoopEnd, failure: LifeguardError | undefined, now = this.clock.now()): AgentOutcome {
    const outcome = {
      mode: this.options.mode,
      end,
      passed: end === 'passed',
      timedOut: end === 'timed-out',
      exitCode: end === 'passed' ? 0 : (failure ?? checkCancelled()).exitCode,
      elapsedMs: now - this.started,
      attempts: this.attempts,
      checks: this.reports(now),
    };
    return failure === undefined ? outcome : { ...outcome, failure };
  }
}
