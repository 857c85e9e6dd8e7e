/**
 * One watched container's state machine: what its health reports mean and when to act on them. The rules:
 *  - nothing is done before the start grace ends (the longer of `startGrace` and the HEALTHCHECK's own start
 *    period, counted from the container's start); failures reported while starting only count once it has ended;
 *  - a container must stay unhealthy for `minUnhealthy` before anything is done;
 *  - each action (restart, or stop) goes through the restart policy (decideRestart): its delay, then its give-up.
 * The restart count belongs to the container (its Lineage), so it survives the watch of one run ending.
 *
 *   starting --(healthy)--> healthy --(unhealthy)--> unhealthy --(due)--> restarting --(restarted)--> starting
 *       \--(unhealthy, grace over)--------------------^   |  \--(backoff)--> backing-off --(due)--^
 *                                                          \--(restarts used up)--> given-up
 *   with action `stop`: stopping (not restarting) --(stopped)--> stopped
 *   unhealthy, backing-off, given-up --(healthy)--> healthy;  any --(exited, paused, removed, stopped by us)--> stopped
 *
 * Time comes from the Clock; the engine calls are the watcher's (onAct), which reports back how they went.
 */
import { formatDuration } from '../checks/duration.js';
import { decideRestart } from '../shared/restart-policy.js';
import type { WatchState, WatchTransition } from '../shared/transition.js';
import type { RestartPolicy } from '../shared/restart-policy.js';
import type { Clock, Timer } from '../checks/clock.js';

export type WatchAction = 'restart' | 'stop';

export type HealthReport = { readonly kind: 'healthy' } | { readonly kind: 'unhealthy'; readonly reason: string };

export interface WatchRules {
  readonly action: WatchAction;
  /** How long a container must stay unhealthy before anything is done. */
  readonly minUnhealthyMs: number;
  /** After a start, how long nothing is done whatever the checks say. */
  readonly startGraceMs: number;
  readonly restart: RestartPolicy;
  /** Log what would be done, do nothing. */
  readonly dryRun: boolean;
}

/** What outlives one run of a container: how many times lifeguard acted on it. */
export interface Lineage {
  restarts: number;
}

/** When the current run began, as the engine says. */
export interface ContainerStart {
  readonly startedAtMs: number;
  /** The HEALTHCHECK's start period; 0 without one. */
  readonly startPeriodMs: number;
}

export interface WatchContext {
  readonly id: string;
  /** The log's `app`: the compose service, else the container's name. */
  readonly app: string;
  /** The log's `instance`: the container's name. */
  readonly name: string;
  readonly rules: WatchRules;
  readonly clock: Clock;
  readonly lineage: Lineage;
  readonly transition: (transition: WatchTransition) => void;
  /** Carry out the action; the answer comes back through restarted(), stopped() or actionFailed(). */
  readonly onAct: (watch: ContainerWatch, action: WatchAction) => void;
}

const LEVEL: Partial<Record<WatchState, WatchTransition['level']>> = { unhealthy: 'warn', 'given-up': 'error' };
const NOUN: Record<WatchAction, string> = { restart: 'restart', stop: 'stop' };
const DOING: Record<WatchAction, string> = { restart: 'Restarting container', stop: 'Stopping container' };
/** The state while the action is under way. */
const ACTING: Record<WatchAction, WatchState> = { restart: 'restarting', stop: 'stopping' };

export class ContainerWatch {
  private current: WatchState | null = null;
  private sinceMs = 0;
  private start: ContainerStart = { startedAtMs: 0, startPeriodMs: 0 };
  private lastReport: HealthReport | undefined;
  private healthySinceMs: number | undefined;
  private unhealthySinceMs = 0;
  /** How long it had been healthy when it turned unhealthy: a long enough stretch resets the restart count. */
  private healthyForMs = 0;
  private reason = '';
  /** One timer at a time: the end of the grace, the moment to decide, or the end of a backoff. */
  private timer: Timer | undefined;

  constructor(private readonly ctx: WatchContext) {}

  get id(): string {
    return this.ctx.id;
  }

  get state(): WatchState | null {
    return this.current;
  }

  /** When the current state was entered. */
  get since(): number {
    return this.sinceMs;
  }

  get startedAtMs(): number {
    return this.start.startedAtMs;
  }

  /** Between the decision to act and the engine's answer; events about the container wait until then. */
  get acting(): boolean {
    return this.current === 'restarting' || this.current === 'stopping';
  }

  /** A run of the container begins to be watched: found running, started again by someone, or restarted by us. */
  begin(start: ContainerStart, msg: string, reason?: string): void {
    this.cancelTimer();
    this.start = start;
    this.lastReport = undefined;
    this.healthySinceMs = undefined;
    this.move('starting', msg, reason);
    const left = this.graceEndsAtMs() - this.ctx.clock.now();
    if (left > 0) this.arm(left, () => this.graceEnded());
  }

  report(health: HealthReport): void {
    this.lastReport = health;
    const state = this.current;
    if (state === null || this.acting || state === 'stopped') return;
    if (health.kind === 'healthy') {
      if (state !== 'healthy') this.becomeHealthy();
      return;
    }
    if (state === 'unhealthy' || state === 'backing-off' || state === 'given-up') {
      this.reason = health.reason;
      return;
    }
    // Failures while starting count only once the grace is over (Docker's start period works the same way).
    if (state === 'healthy' || this.ctx.clock.now() >= this.graceEndsAtMs()) this.becomeUnhealthy(health.reason);
  }

  /**
   * The engine stopped running its HEALTHCHECK (its status is frozen): what it says is no longer health. Back to
   * waiting, with nothing scheduled, until it says something new.
   */
  healthUnknown(reason: string): void {
    if (this.current === null || this.acting || this.current === 'stopped') return;
    this.cancelTimer();
    this.lastReport = undefined;
    this.healthySinceMs = undefined;
    this.move('starting', 'Engine health stopped moving: health unknown until the engine runs the HEALTHCHECK again', reason);
  }

  /** Our restart finished and the container runs again. */
  restarted(start: ContainerStart): void {
    if (this.current !== 'restarting') return;
    this.begin(start, 'Restarted container; waiting for it to become healthy');
  }

  /** Our stop finished. */
  stopped(): void {
    if (this.current !== 'stopping') return;
    this.move('stopped', 'Stopped container');
  }

  actionFailed(reason: string): void {
    if (!this.acting) return;
    this.move('unhealthy', `Could not ${NOUN[this.ctx.rules.action]} the container`, reason);
    // It counted as an attempt; the policy says when to try again, or to give up.
    this.decide();
  }

  /** It stopped by itself or by someone else's hand. */
  exited(reason: string): void {
    this.end('Container exited (not stopped by lifeguard); watched again if it starts', reason);
  }

  /** Stopped by the engine as it shut down (the event stream broke right after): not the app's doing. */
  stoppedByEngine(): void {
    this.end('Container stopped by the engine shutting down; watched again if it starts');
  }

  /** Paused by someone: nothing is judged while it is frozen. */
  paused(): void {
    this.end('Container paused (not by lifeguard); watched again when unpaused');
  }

  removed(): void {
    this.end('Container removed');
  }

  /** Cancels the timer; no transition follows. */
  close(): void {
    this.cancelTimer();
  }

  private end(msg: string, reason?: string): void {
    this.cancelTimer();
    if (this.current !== null && this.current !== 'stopped') this.move('stopped', msg, reason);
  }

  private graceEndsAtMs(): number {
    return this.start.startedAtMs + Math.max(this.ctx.rules.startGraceMs, this.start.startPeriodMs);
  }

  private graceEnded(): void {
    if (this.current === 'starting' && this.lastReport?.kind === 'unhealthy') this.becomeUnhealthy(this.lastReport.reason);
  }

  private becomeHealthy(): void {
    this.cancelTimer();
    this.healthySinceMs = this.ctx.clock.now();
    this.move('healthy', 'Container became healthy');
  }

  private becomeUnhealthy(reason: string): void {
    const now = this.ctx.clock.now();
    this.healthyForMs = this.healthySinceMs === undefined ? 0 : now - this.healthySinceMs;
    this.healthySinceMs = undefined;
    this.unhealthySinceMs = now;
    this.reason = reason;
    this.move('unhealthy', 'Container became unhealthy', reason);
    const waitMs = Math.max(now + this.ctx.rules.minUnhealthyMs, this.graceEndsAtMs()) - now;
    if (waitMs > 0) this.arm(waitMs, () => this.decide());
    else this.decide();
  }

  private decide(): void {
    const { rules, lineage } = this.ctx;
    const decision = decideRestart(rules.restart, lineage.restarts, this.healthyForMs);
    lineage.restarts = decision.restarts;
    if (decision.kind === 'give-up') {
      const msg = `${rules.dryRun ? 'Dry run: would give up' : 'Gave up'} after ${plural(decision.restarts, NOUN[rules.action])}: leaving the container as it is`;
      this.move('given-up', msg, this.reason);
      return;
    }
    const which = `${NOUN[rules.action]} ${decision.restarts} of ${rules.restart.maxRestarts}`;
    if (rules.dryRun) {
      // Nothing will happen, so nothing is timed: the line says what would, and the next one comes when its health changes.
      const when = decision.delayMs > 0 ? ` in ${formatDuration(decision.delayMs)}` : ' now';
      this.move('backing-off', `Dry run: would ${NOUN[rules.action]}${when} (${which})`, this.reason);
      return;
    }
    if (decision.delayMs === 0) return this.act(which);
    this.move('backing-off', `${capitalised(which)} in ${formatDuration(decision.delayMs)}`, this.reason);
    this.arm(decision.delayMs, () => this.act(which));
  }

  private act(which: string): void {
    const unhealthyFor = formatDuration(Math.round(this.ctx.clock.now() - this.unhealthySinceMs));
    this.move(ACTING[this.ctx.rules.action], `${DOING[this.ctx.rules.action]} (${which})`, `unhealthy for ${unhealthyFor}: ${this.reason}`);
    this.ctx.onAct(this, this.ctx.rules.action);
  }

  private arm(ms: number, callback: () => void): void {
    this.cancelTimer();
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      callback();
    }, ms);
  }

  private cancelTimer(): void {
    this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private move(to: WatchState, msg: string, reason?: string): void {
    const from = this.current;
    this.current = to;
    this.sinceMs = this.ctx.clock.now();
    this.ctx.transition({
      time: new Date(this.ctx.clock.now()).toISOString(),
      level: LEVEL[to] ?? 'info',
      app: this.ctx.app,
      instance: this.ctx.name,
      from,
      to,
      msg,
      ...(reason === undefined || reason === '' ? {} : { reason }),
    });
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
