/**
 * One instance's life, as an explicit state machine. NEXT is the whole of what may happen; a move it does not
 * allow is a bug in the supervisor and throws. The data of each state is held with it (Life), and an instance
 * owns everything that runs on its behalf — the start delay, the driver's process, the probe — so that destroy()
 * ends all of it.
 *
 * Every input (a timer, the driver, the probe, a caller) is an event handled to completion before the next one:
 * an event raised while one is being handled (a transition listener that claims the instance, a record that
 * fails inside a transition) waits its turn in the inbox instead of re-entering the instance mid-transition.
 */
import { formatDuration } from '../../checks/duration.js';
import { type Clock, realClock, type Timer } from '../../checks/clock.js';
import type { DestroyOutcome, Driver, LaunchResult, RunningInstance } from '../drivers/driver.js';
import { describeExit, type Exit } from '../../shared/exit.js';
import { CheckHistory, DEFAULT_CHECK_HISTORY } from './history.js';
import type { LivenessPlan, Phase, Probe, ProbeEnd, ProbeHandle, ProbeObserver, ProbeTarget, RoutingProbe } from '../../probes/probe.js';
import { STATE_DIR_ENV, type StateDir, trackProcess } from '../host/state-dir.js';
import type { AppSpec } from '../spec/types.js';
import type { CheckRecord, InstanceStatus } from '../../shared/status.js';
import type { InstanceState, RoutingCause, RoutingState, Transition, TransitionCause, TransitionFacts } from '../../shared/transition.js';

const NEXT: { readonly [S in InstanceState | 'new']: readonly InstanceState[] } = {
  new: ['scheduled'],
  // A start that fails (command not found) is a crash before the instance ever ran.
  scheduled: ['starting', 'crashed', 'destroying'],
  starting: ['healthy', 'timed-out', 'crashed', 'destroying'],
  healthy: ['unhealthy', 'crashed', 'claimed', 'destroying'],
  claimed: ['unhealthy', 'crashed', 'destroying'],
  unhealthy: ['destroying'],
  'timed-out': ['destroying'],
  crashed: ['destroying'],
  destroying: ['destroyed'],
  // A give-up is the last word on an instance that was destroyed and will not be replaced.
  destroyed: ['given-up'],
  'given-up': [],
};

const LEVEL: Partial<Record<InstanceState, Transition['level']>> = {
  unhealthy: 'warn',
  'timed-out': 'warn',
  crashed: 'warn',
  'given-up': 'error',
};

type Failure = 'crashed' | 'timed-out' | 'unhealthy';

/** Why a failed instance is destroyed, in the `reason` of its `destroying` line. */
const DESTROY_REASON: Readonly<Record<Failure, string>> = {
  crashed: 'container crashed',
  'timed-out': 'startup health check never passed',
  unhealthy: 'health check failed',
};

/** A member counts toward the app's instances, a prewarm instance toward its pool; a claimed one belongs to its claimer. */
export type Role = 'member' | 'prewarm' | 'claimed';

/** Why an instance is destroyed on request: a claimer's release, the supervisor stopping, or an applied config. */
export type DestroyCause = 'asked' | 'stopping' | 'rolled' | 'scaled-down' | 'removed';

/** Why a destroyed instance gets no replacement. */
export type GiveUpCause = 'restart-limit' | 'permanent' | 'roll-halted';

export interface InstanceContext {
  readonly spec: AppSpec;
  readonly driver: Driver;
  readonly probe: Probe;
  /** Runs the app's routing checks, whatever `probe` is: in the supervisor, where a load balancer stands. */
  readonly routing: RoutingProbe;
  readonly records: StateDir;
  /** The TCP ping of an unclaimed prewarmed instance. */
  readonly pingPlan: LivenessPlan;
  readonly clock?: Clock;
  readonly transition: (transition: Transition) => void;
  readonly checked: (instance: Instance, phase: CheckRecord['phase'], passed: boolean, latencyMs: number, lateMs?: number) => void;
  /** A prewarmed instance became healthy: a waiting claim may take it. */
  readonly ready: (instance: Instance) => void;
  /** Told once, at `destroyed`, with what led there. */
  readonly destroyed: (instance: Instance, cause: TransitionCause) => void;
}

/**
 * One probe started for the instance (a session of it). Its words come back through the inbox tagged with it, so that a word from a
 * probe the instance has since stopped is recognised and dropped.
 */
interface ProbeSession {
  handle: ProbeHandle | undefined;
  /** The phase a liveness round counts in: the app's checks, or a prewarmed instance's ping. */
  readonly liveness: 'liveness' | 'prewarm';
}

/**
 * A healthy member's routing probe and the routing state it has led to: null until its first verdict (an
 * instance is not listed before that), then routable or unroutable. Its words are tagged with it, as a ProbeSession's.
 */
interface RoutingSession {
  handle: ProbeHandle | undefined;
  state: RoutingState | null;
}

/** The states and the data each one holds. */
type Life =
  | { readonly state: 'new' }
  /** `delay` until the start is due; undefined once the driver is launching. */
  | { readonly state: 'scheduled'; readonly delay: Timer | undefined }
  | { readonly state: 'starting'; readonly running: RunningInstance; readonly session: ProbeSession; readonly since: number }
  /** `routing`: absent when the app has no routing checks (then a healthy member is routable) or for a prewarm instance. */
  | { readonly state: 'healthy'; readonly running: RunningInstance; readonly session: ProbeSession; readonly since: number; readonly routing: RoutingSession | undefined }
  /** `decide`: the claim waiting for the first check's verdict after it. */
  | { readonly state: 'claimed'; readonly running: RunningInstance; readonly session: ProbeSession; readonly since: number; decide: ((passed: boolean) => void) | undefined }
  /** A failure, on its way to destroying within the same event. */
  | { readonly state: Failure; readonly cause: TransitionCause }
  /** `drain`: the wait between leaving the endpoints and the driver's destroy, while it runs. */
  | { readonly state: 'destroying'; readonly cause: TransitionCause; drain: Timer | undefined }
  | { readonly state: 'destroyed' }
  | { readonly state: 'given-up' };

type Event =
  | { readonly type: 'due' }
  | { readonly type: 'launched'; readonly result: LaunchResult }
  | { readonly type: 'exited'; readonly reason: string }
  | { readonly type: 'ready'; readonly session: ProbeSession }
  | { readonly type: 'round'; readonly session: ProbeSession; readonly phase: Phase; readonly passed: boolean; readonly latencyMs: number; readonly lateMs: number | undefined }
  | { readonly type: 'probe-ended'; readonly session: ProbeSession; readonly end: ProbeEnd }
  | { readonly type: 'routing-round'; readonly routing: RoutingSession; readonly passed: boolean; readonly latencyMs: number; readonly lateMs: number | undefined }
  | { readonly type: 'routing-verdict'; readonly routing: RoutingSession; readonly routable: boolean; readonly reason: string }
  | { readonly type: 'drained' }
  | { readonly type: 'agent-started'; readonly session: ProbeSession }
  | { readonly type: 'claim'; readonly decide: (passed: boolean) => void }
  | { readonly type: 'destroy'; readonly cause: DestroyCause; readonly reason: string }
  | { readonly type: 'torn-down'; readonly outcome: DestroyOutcome | undefined }
  | { readonly type: 'give-up'; readonly msg: string; readonly cause: GiveUpCause };

export class Instance {
  private life: Life = { state: 'new' };
  /** When it entered its state, in Unix milliseconds (clock.unixMs()). */
  private since: number;
  private readonly clock: Clock;
  private readonly inbox: Event[] = [];
  private handling = false;
  /** The driver's process, from launch to teardown (it outlives the states that watch it). */
  private running: RunningInstance | undefined;
  private launching: Promise<void> | undefined;
  private readonly gone: Promise<void>;
  private resolveGone!: () => void;
  /** How long the instance stayed healthy before it last stopped being so; the restart policy forgives long stretches. */
  healthyForMs = 0;
  /** It passed readiness once: a rolling update's replacement that never did halts the roll. */
  everHealthy = false;
  /** Its last probe rounds, for /status and the status page. */
  private readonly checks: CheckHistory;

  constructor(
    readonly id: string,
    public role: Role,
    /** Restarts of this instance's lineage before it; a replacement inherits them. */
    readonly restarts: number,
    private readonly ctx: InstanceContext,
  ) {
    this.clock = ctx.clock ?? realClock;
    this.since = this.clock.unixMs();
    this.checks = new CheckHistory(ctx.spec.checkHistory ?? DEFAULT_CHECK_HISTORY);
    this.gone = new Promise((resolve) => (this.resolveGone = resolve));
  }

  get state(): InstanceState | null {
    return this.life.state === 'new' ? null : this.life.state;
  }

  /** What its destroy was for, while it is being destroyed. */
  get destroyCause(): TransitionCause | undefined {
    return this.life.state === 'destroying' ? this.life.cause : undefined;
  }

  /** The spec it was started with, which a rolling update tells from its app's current one. */
  get spec(): AppSpec {
    return this.ctx.spec;
  }

  get address(): string | null {
    return this.running?.address ?? null;
  }

  /** In its app's endpoints: a healthy member whose routing checks, if it has any, pass. */
  get routable(): boolean {
    const life = this.life;
    return this.role === 'member' && life.state === 'healthy' && (life.routing === undefined || life.routing.state === 'routable');
  }

  status(): InstanceStatus {
    const state = this.state ?? 'scheduled';
    // A process that is gone has no pid or address to show: the pid may be someone else's by now.
    const gone = state === 'destroyed' || state === 'given-up';
    return {
      id: this.id,
      state,
      address: gone ? null : this.address,
      pid: gone ? null : (this.running?.pid ?? null),
      restarts: this.restarts,
      since: new Date(this.since).toISOString(),
      checks: this.checks.toArray(),
      routable: this.routable,
    };
  }

  schedule(delayMs: number, msg: string, facts: TransitionFacts): void {
    this.move({ state: 'scheduled', delay: this.clock.setTimeout(() => this.post({ type: 'due' }), delayMs) }, msg, undefined, facts);
  }

  /** Hands a healthy prewarmed instance out; resolves with the verdict of its first check after the claim. */
  claim(): Promise<boolean> {
    // The role changes at once, so that no other claim can pick the instance while this one waits its turn.
    this.role = 'claimed';
    let decide: (passed: boolean) => void = () => {};
    const verdict = new Promise<boolean>((resolve) => (decide = resolve));
    this.post({ type: 'claim', decide });
    return verdict;
  }

  /** Stops everything the instance runs; resolves at `destroyed`. Calling it again joins the destroy under way. */
  destroy(reason: string, cause: DestroyCause): Promise<void> {
    this.post({ type: 'destroy', cause, reason });
    return this.gone;
  }

  /** The restart policy's last word on a destroyed instance, or a permanent failure's: no replacement. */
  giveUp(msg: string, cause: GiveUpCause = 'restart-limit'): void {
    this.post({ type: 'give-up', msg, cause });
  }

  private post(event: Event): void {
    if (this.handling) {
      this.inbox.push(event);
      return;
    }
    this.handling = true;
    try {
      // Nothing waits when nothing is being handled: the event (a probe round, every interval) goes straight in,
      // without a trip through the inbox.
      this.handle(event);
      for (let next = this.inbox.shift(); next !== undefined; next = this.inbox.shift()) this.handle(next);
    } finally {
      this.handling = false;
      // Only after a throw is anything left; emptying an empty array drops its backing store, which the next
      // event (a probe round, every interval) would allocate again.
      if (this.inbox.length > 0) this.inbox.length = 0;
    }
  }

  private handle(event: Event): void {
    const life = this.life;
    switch (event.type) {
      case 'due':
        if (life.state === 'scheduled') this.launch();
        return;
      case 'launched':
        return this.launched(event.result);
      case 'exited':
        // Once destroying, an exit is what was asked for, not a crash.
        if (NEXT[life.state].includes('crashed')) this.fail('crashed', 'crashed', 'Container crashed', event.reason);
        return;
      case 'ready':
        if (life.state === 'starting' && life.session === event.session) this.becameHealthy(life.running, life.session);
        return;
      case 'round':
        return this.round(event);
      case 'probe-ended':
        return this.probeEnded(event.session, event.end);
      case 'routing-round':
        if (life.state === 'healthy' && life.routing === event.routing) this.recordRound('routing', event.passed, event.latencyMs, event.lateMs);
        return;
      case 'routing-verdict':
        if (life.state === 'healthy' && life.routing === event.routing) this.routingVerdict(event.routing, event.routable, event.reason);
        return;
      case 'drained':
        if (life.state === 'destroying' && life.drain !== undefined) {
          life.drain = undefined;
          this.tearDown();
        }
        return;
      case 'agent-started':
        // The state directory must know every agent, so that a successor can stop one a crash left behind.
        if ('session' in life && life.session === event.session) this.record(event.session);
        return;
      case 'claim':
        return this.claimed(event.decide);
      case 'destroy':
        if (life.state !== 'destroying' && life.state !== 'destroyed' && life.state !== 'given-up') this.destroying(event.cause, event.reason, true);
        return;
      case 'torn-down':
        return this.tornDown(event.outcome);
      case 'give-up':
        return this.move({ state: 'given-up' }, event.msg, undefined, { cause: event.cause });
    }
  }

  private launch(): void {
    this.life = { state: 'scheduled', delay: undefined };
    this.launching = this.ctx.driver
      .launch({ instance: this.id, spec: this.markedSpec(), onExit: (exit: Exit) => this.post({ type: 'exited', reason: describeExit(exit) }) })
      // A driver that throws (no descriptor left to reserve a port) fails this start, never the supervisor.
      .catch((thrown: unknown): LaunchResult => ({ ok: false, reason: `cannot start: ${driverFailure(thrown)}` }))
      .then((result) => this.post({ type: 'launched', result }));
  }

  private launched(result: LaunchResult): void {
    if (!result.ok) {
      if (this.life.state === 'scheduled') this.fail('crashed', result.permanent === true ? 'permanent' : 'crashed', 'Container crashed', result.reason);
      return;
    }
    const { running } = result;
    this.running = running;
    // destroy() came while the driver was starting: the teardown under way takes the instance down.
    if (this.life.state !== 'scheduled') return this.record(undefined);
    const { readinessChecks, startupIntervalMs, startupTimeoutMs, successThreshold } = this.ctx.spec;
    const prewarm = this.role === 'prewarm';
    const plan = { readiness: { checks: readinessChecks, intervalMs: startupIntervalMs, startupTimeoutMs, ...(successThreshold === undefined ? {} : { successThreshold }) }, liveness: prewarm ? this.ctx.pingPlan : this.livenessPlan() };
    // Stamped before the probe starts, whose startup deadline counts from then: "Failed after" is never less.
    const since = this.clock.now();
    const session = this.session(prewarm ? 'prewarm' : 'liveness', (observer) => this.ctx.probe.lifecycle(this.target(running), plan, observer));
    this.move({ state: 'starting', running, session, since }, 'Starting health monitoring of container');
    this.record(session);
  }

  private becameHealthy(running: RunningInstance, session: ProbeSession): void {
    this.everHealthy = true;
    const plan = this.ctx.spec.routing;
    const routing = this.role === 'member' && plan !== undefined && plan.checks.length > 0 ? this.routingSession(running) : undefined;
    this.move({ state: 'healthy', running, session, since: this.clock.now(), routing }, 'Container became healthy');
    // A waiting claim may take this instance now; its claim is handled once this transition is done.
    if (this.role === 'prewarm') this.ctx.ready(this);
  }

  private round(event: Extract<Event, { type: 'round' }>): void {
    const life = this.life;
    if (!('session' in life) || life.session !== event.session) return;
    this.recordRound(event.phase === 'liveness' ? event.session.liveness : event.phase, event.passed, event.latencyMs, event.lateMs);
    if (life.state === 'claimed' && life.decide !== undefined) {
      life.decide(event.passed);
      life.decide = undefined;
    }
  }

  private recordRound(phase: CheckRecord['phase'], passed: boolean, latencyMs: number, lateMs: number | undefined): void {
    this.checks.push(this.clock.unixMs(), phase, passed, latencyMs);
    this.ctx.checked(this, phase, passed, latencyMs, lateMs);
  }

  /** A routing verdict moves the routing state only when it differs; the first one is logged whichever it is. */
  private routingVerdict(routing: RoutingSession, routable: boolean, reason: string): void {
    const to: RoutingState = routable ? 'routable' : 'unroutable';
    if (routing.state !== to) this.routingMove(routing, to, routable ? 'checks-passed' : 'checks-failed', routable ? undefined : reason);
  }

  private probeEnded(session: ProbeSession, end: ProbeEnd): void {
    const life = this.life;
    if (!('session' in life) || life.session !== session) return;
    // An app that has exited failed its check because it was gone: its exit, on its way, says why (its code, its
    // last lines of stderr) and makes it a crash, not an unhealthy or timed-out instance.
    if (life.running.exited === true) return;
    if (life.state === 'starting') {
      const elapsed = formatDuration(Math.round(this.clock.now() - life.since));
      return this.fail('timed-out', end.cause, `Failed after ${elapsed}: startup health check never passed.`, end.reason);
    }
    this.fail('unhealthy', end.cause, 'Container became unhealthy', end.reason);
  }

  private claimed(decide: (passed: boolean) => void): void {
    const life = this.life;
    if (life.state !== 'healthy') {
      // A claim that lost its race (the instance failed meanwhile) is decided at once; any other is a bug.
      if (life.state === 'destroying' || life.state === 'destroyed' || life.state === 'given-up') return decide(false);
      throw new Error(`bug: illegal transition of ${this.id} from ${life.state} to claimed`);
    }
    life.session.handle?.cancel();
    const session = this.session('liveness', (observer) => this.ctx.probe.liveness(this.target(life.running), this.livenessPlan(), observer));
    this.move({ state: 'claimed', running: life.running, session, since: life.since, decide }, 'Claimed from the prewarm pool');
    this.record(session);
  }

  private fail(to: Failure, why: TransitionCause, msg: string, reason: string): void {
    const left = this.life;
    this.endState();
    this.move({ state: to, cause: why }, msg, reason, { cause: why });
    this.leftHealthy(left, why);
    this.destroying(why, DESTROY_REASON[to], false);
  }

  /**
   * `requested`: a destroy someone asked for (whatever its cause), which drains a routable instance: it leaves the
   * endpoints here, at once, and the driver's destroy waits `drain` so that a load balancer following the
   * endpoints stops sending first. A failure never drains: the instance is no use to anyone any more.
   */
  private destroying(why: TransitionCause, reason: string, requested: boolean): void {
    const left = this.life;
    const drainMs = requested && this.routable ? (this.ctx.spec.routing?.drainMs ?? 0) : 0;
    this.endState();
    const drain = drainMs > 0 ? this.clock.setTimeout(() => this.post({ type: 'drained' }), drainMs) : undefined;
    this.move({ state: 'destroying', cause: why, drain }, 'Destroying container', drain === undefined ? reason : `${reason}; draining for ${formatDuration(drainMs)} first`, { cause: why });
    this.leftHealthy(left, why);
    if (drain === undefined) this.tearDown();
  }

  /** A routable instance that leaves `healthy` leaves the endpoints with it; its routing line says why. */
  private leftHealthy(left: Life, why: TransitionCause): void {
    if (left.state === 'healthy' && left.routing?.state === 'routable') this.routingMove(left.routing, 'unroutable', why, `left healthy for ${this.life.state}`);
  }

  /** The driver's destroy (SIGTERM, the grace period, SIGKILL), once the driver's launch has settled. */
  private tearDown(): void {
    const { gracePeriodMs } = this.ctx.spec;
    void (async () => {
      await this.launching;
      // A driver whose destroy throws (no descriptor left to read /proc with) must not leave the instance
      // destroying for ever: it is torn down with what went wrong as the reason.
      const outcome = await this.running?.destroy(gracePeriodMs).catch((thrown: unknown): DestroyOutcome => ({ forced: false, reason: `destroy failed: ${driverFailure(thrown)}` }));
      this.post({ type: 'torn-down', outcome });
    })();
  }

  private tornDown(outcome: DestroyOutcome | undefined): void {
    const life = this.life;
    if (life.state !== 'destroying') return;
    this.ctx.records.remove(this.id);
    const killed = outcome?.forced === true ? `still running ${formatDuration(this.ctx.spec.gracePeriodMs)} after SIGTERM: killed` : undefined;
    const reason = outcome?.reason ?? killed;
    this.move({ state: 'destroyed' }, 'Container destroyed', reason, { cause: life.cause });
    this.resolveGone();
    this.ctx.destroyed(this, life.cause);
  }

  /** Stops whatever the state watches (the start delay, the probes) and settles a waiting claim. */
  private endState(): void {
    const life = this.life;
    if (life.state === 'scheduled') this.clock.clearTimeout(life.delay);
    if ('session' in life) life.session.handle?.cancel();
    if (life.state === 'healthy') life.routing?.handle?.cancel();
    if (life.state === 'healthy' || life.state === 'claimed') this.healthyForMs = this.clock.now() - life.since;
    if (life.state === 'claimed' && life.decide !== undefined) {
      life.decide(false);
      life.decide = undefined;
    }
  }

  private livenessPlan(): LivenessPlan {
    return { checks: this.ctx.spec.checks, intervalMs: this.ctx.spec.livenessIntervalMs, failureThreshold: 1 };
  }

  /** Starts a probe whose every word comes back through the inbox, tagged with its session. */
  private session(liveness: ProbeSession['liveness'], start: (observer: ProbeObserver) => ProbeHandle): ProbeSession {
    const session: ProbeSession = { handle: undefined, liveness };
    session.handle = start({
      round: (phase, passed, latencyMs, lateMs) => this.post({ type: 'round', session, phase, passed, latencyMs, lateMs }),
      ready: () => this.post({ type: 'ready', session }),
      end: (end) => this.post({ type: 'probe-ended', session, end }),
      agentStarted: () => this.post({ type: 'agent-started', session }),
    });
    return session;
  }

  /** Starts the routing probe of a member becoming healthy; its words come back through the inbox, tagged with it. */
  private routingSession(running: RunningInstance): RoutingSession {
    const plan = this.ctx.spec.routing!;
    const routing: RoutingSession = { handle: undefined, state: null };
    routing.handle = this.ctx.routing.routing(this.target(running), plan, {
      round: (passed, latencyMs, lateMs) => this.post({ type: 'routing-round', routing, passed, latencyMs, lateMs }),
      verdict: (routable, reason) => this.post({ type: 'routing-verdict', routing, routable, reason }),
    });
    return routing;
  }

  /** A move of the routing state machine: a line of its own in the transition log, the instance's state unchanged. */
  private routingMove(routing: RoutingSession, to: RoutingState, cause: RoutingCause, reason: string | undefined): void {
    const from = routing.state;
    routing.state = to;
    this.ctx.transition({
      time: new Date(this.clock.unixMs()).toISOString(),
      level: cause === 'checks-failed' ? 'warn' : 'info',
      app: this.ctx.spec.name,
      instance: this.id,
      from,
      to,
      msg: to === 'routable' ? 'Instance became routable' : 'Instance became unroutable',
      ...(reason === undefined ? {} : { reason }),
      cause,
    });
  }

  private target(running: RunningInstance): ProbeTarget {
    return {
      app: this.ctx.spec.name,
      instance: this.id,
      endpoint: (port) => running.endpoint(port),
      ...(running.agent === undefined ? {} : { agent: running.agent }),
      ...(this.ctx.spec.user === undefined ? {} : { user: this.ctx.spec.user }),
    };
  }

  /** The spec with the state directory in its environment, so that a process never recorded can still be found. */
  private markedSpec(): AppSpec {
    const { spec, records } = this.ctx;
    return { ...spec, env: { ...spec.env, [STATE_DIR_ENV]: records.root } };
  }

  /** The state directory's record: the app's process and, under sidecar probing, its agent. */
  private record(session: ProbeSession | undefined): void {
    const agentPid = session?.handle?.agentPid ?? null;
    const agent = agentPid === null ? undefined : trackProcess('agent', agentPid);
    const processes = [...(this.running?.tracked ?? []), ...(agent === undefined ? [] : [agent])];
    try {
      this.ctx.records.write({ app: this.ctx.spec.name, instance: this.id, processes });
    } catch (thrown) {
      // What the state directory cannot remember, a crashed supervisor's successor cannot clean up: it does not run.
      this.post({ type: 'exited', reason: `cannot record it in the state directory: ${(thrown as Error).message}` });
    }
  }

  private move(next: Life, msg: string, reason?: string, facts: TransitionFacts = {}): void {
    const from = this.state;
    const to = next.state as InstanceState;
    if (!NEXT[from ?? 'new'].includes(to)) throw new Error(`bug: illegal transition of ${this.id} from ${from ?? 'nothing'} to ${to}`);
    this.life = next;
    this.since = this.clock.unixMs();
    this.ctx.transition({
      time: new Date(this.since).toISOString(),
      level: LEVEL[to] ?? 'info',
      app: this.ctx.spec.name,
      instance: this.id,
      from,
      to,
      msg,
      ...(reason === undefined ? {} : { reason }),
      ...facts,
    });
  }
}

/**
 * A system error's own message names the call and the errno (`listen EMFILE: too many open files`); anything
 * else thrown may quote the spawn options, the app's environment included, which must never reach the log.
 */
function driverFailure(thrown: unknown): string {
  const error = thrown as NodeJS.ErrnoException;
  return typeof error?.code === 'string' && typeof error.syscall === 'string' ? error.message : 'the driver failed unexpectedly';
}
