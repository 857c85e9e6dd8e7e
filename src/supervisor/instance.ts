/**
 * One instance's life, as the explicit state machine of DESIGN.md ("Model"). The table below is the whole of
 * what may happen; a move it does not allow is a bug in the supervisor and throws. An instance owns everything
 * that runs on its behalf — the start delay, the driver's process, the probe — and destroy() ends all of it.
 */
import { formatDuration } from '../checks/duration.js';
import { describeExit, type Driver, type Exit, type LaunchResult, type RunningInstance } from './drivers/driver.js';
import type { LivenessPlan, Probe, ProbeEnd, ProbeHandle, ProbeObserver, ProbeTarget } from './probes/probe.js';
import { STATE_DIR_ENV, type StateDir, trackProcess } from './state-dir.js';
import type { AppSpec, InstanceState, InstanceStatus, Transition } from './types.js';

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

/** Why a failed instance is destroyed, in the `reason` of its `destroying` line. */
const DESTROY_REASON = {
  crashed: 'container crashed',
  'timed-out': 'startup health check never passed',
  unhealthy: 'health check failed',
} as const;

/** A member counts toward the app's instances, a prewarm instance toward its pool; a claimed one belongs to its claimer. */
export type Role = 'member' | 'prewarm' | 'claimed';

export interface InstanceContext {
  readonly spec: AppSpec;
  readonly driver: Driver;
  readonly probe: Probe;
  readonly records: StateDir;
  /** The TCP ping of an unclaimed prewarmed instance. */
  readonly pingPlan: LivenessPlan;
  readonly transition: (transition: Transition) => void;
  readonly checked: (instance: Instance, phase: 'readiness' | 'liveness' | 'prewarm', passed: boolean, latencyMs: number, lateMs?: number) => void;
  /** A prewarmed instance became healthy: a waiting claim may take it. */
  readonly ready: (instance: Instance) => void;
  /** Told once, at `destroyed`; `asked` is false when the instance failed on its own. */
  readonly destroyed: (instance: Instance, asked: boolean) => void;
}

export class Instance {
  private current: InstanceState | null = null;
  private since = new Date();
  private delay: NodeJS.Timeout | undefined;
  private launching: Promise<void> | undefined;
  private running: RunningInstance | undefined;
  private probe: ProbeHandle | undefined;
  private teardown: Promise<void> | undefined;
  private startingAt = 0;
  private healthyAt: number | undefined;
  private claimDecided: ((passed: boolean) => void) | undefined;
  /** How long the instance stayed healthy before it last stopped being so; the restart policy forgives long stretches. */
  healthyForMs = 0;

  constructor(
    readonly id: string,
    public role: Role,
    /** Restarts of this instance's lineage before it; a replacement inherits them. */
    readonly restarts: number,
    private readonly ctx: InstanceContext,
  ) {}

  get state(): InstanceState | null {
    return this.current;
  }

  get address(): string | null {
    return this.running?.address ?? null;
  }

  status(): InstanceStatus {
    return {
      id: this.id,
      state: this.current ?? 'scheduled',
      address: this.address,
      pid: this.running?.pid ?? null,
      restarts: this.restarts,
      since: this.since.toISOString(),
    };
  }

  schedule(delayMs: number, msg: string): void {
    this.move('scheduled', msg);
    this.delay = setTimeout(() => {
      this.delay = undefined;
      this.launching = this.launch();
    }, delayMs);
  }

  /** Hands a healthy prewarmed instance out; resolves with the verdict of its first check after the claim. */
  claim(): Promise<boolean> {
    this.move('claimed', 'Claimed from the prewarm pool');
    this.stopProbe();
    this.role = 'claimed';
    return new Promise((resolve) => {
      this.claimDecided = resolve;
      this.watch(this.ctx.probe.liveness(this.target(), this.livenessPlan(), this.livenessObserver('liveness')));
    });
  }

  /** Stops everything the instance runs; resolves at `destroyed`. Calling it again joins the destroy under way. */
  destroy(reason: string, asked: boolean): Promise<void> {
    if (this.teardown !== undefined) return this.teardown;
    clearTimeout(this.delay);
    this.stopProbe();
    this.leaveHealthy();
    this.decideClaim(false);
    this.move('destroying', 'Destroying container', reason);
    this.teardown = this.tearDown(asked);
    return this.teardown;
  }

  /** The restart policy's last word on a destroyed instance: no replacement. */
  giveUp(msg: string): void {
    this.move('given-up', msg);
  }

  private async launch(): Promise<void> {
    const result = await this.ctx.driver
      .launch({ instance: this.id, spec: this.markedSpec(), onExit: (exit) => this.exited(exit) })
      // A driver that throws (no descriptor left to reserve a port) fails this start, never the supervisor.
      .catch((thrown: unknown): LaunchResult => ({ ok: false, reason: launchFailure(thrown) }));
    if (!result.ok) {
      if (this.current === 'scheduled') this.fail('crashed', 'Container crashed', result.reason);
      return;
    }
    this.running = result.running;
    this.record();
    // destroy() came while the driver was starting: it waits for this launch and takes the instance down.
    if (this.current !== 'scheduled') return;
    this.startingAt = performance.now();
    this.move('starting', 'Starting health monitoring of container');
    const { readinessChecks, startupIntervalMs, startTimeoutMs } = this.ctx.spec;
    this.watch(
      this.ctx.probe.readiness(this.target(), { checks: readinessChecks, intervalMs: startupIntervalMs, startTimeoutMs }, {
        round: (passed, latencyMs, lateMs) => this.ctx.checked(this, 'readiness', passed, latencyMs, lateMs),
        end: (end) => (end.kind === 'passed' ? this.becameHealthy() : this.neverReady(end)),
      }),
    );
  }

  private becameHealthy(): void {
    this.healthyAt = performance.now();
    this.move('healthy', 'Container became healthy');
    if (this.role === 'prewarm') {
      this.watch(this.ctx.probe.liveness(this.target(), this.ctx.pingPlan, this.livenessObserver('prewarm')));
      // Last: a waiting claim may take this instance at once, replacing the ping just started
      // (unless recording the ping's agent failed and the instance is on its way out).
      if (this.current === 'healthy') this.ctx.ready(this);
    } else {
      // The readiness check has just passed: the first liveness round can wait, and a random phase within the
      // interval keeps a fleet that became healthy together from checking in bursts ever after.
      const plan = this.livenessPlan();
      this.watch(this.ctx.probe.liveness(this.target(), { ...plan, firstRoundMs: Math.floor(Math.random() * plan.intervalMs) }, this.livenessObserver('liveness')));
    }
  }

  private neverReady(end: Exclude<ProbeEnd, { kind: 'passed' }>): void {
    const elapsed = formatDuration(Math.round(performance.now() - this.startingAt));
    this.fail('timed-out', `Failed after ${elapsed}: startup health check never passed.`, end.reason);
  }

  private exited(exit: Exit, reason = describeExit(exit)): void {
    // Once destroying, an exit is what was asked for, not a crash.
    if (this.current !== null && NEXT[this.current].includes('crashed')) this.fail('crashed', 'Container crashed', reason);
  }

  private fail(to: keyof typeof DESTROY_REASON, msg: string, reason: string): void {
    this.stopProbe();
    this.leaveHealthy();
    this.move(to, msg, reason);
    void this.destroy(DESTROY_REASON[to], false);
  }

  private async tearDown(asked: boolean): Promise<void> {
    await this.launching;
    const outcome = await this.running?.destroy(this.ctx.spec.gracePeriodMs);
    this.ctx.records.remove(this.id);
    const forced = outcome?.forced === true ? `still running ${formatDuration(this.ctx.spec.gracePeriodMs)} after SIGTERM: killed` : undefined;
    this.move('destroyed', 'Container destroyed', forced);
    this.ctx.destroyed(this, asked);
  }

  private livenessPlan(): LivenessPlan {
    return { checks: this.ctx.spec.checks, intervalMs: this.ctx.spec.livenessIntervalMs, failureThreshold: 1 };
  }

  private livenessObserver(phase: 'liveness' | 'prewarm'): ProbeObserver {
    return {
      round: (passed, latencyMs, lateMs) => {
        this.ctx.checked(this, phase, passed, latencyMs, lateMs);
        this.decideClaim(passed);
      },
      end: (end) => this.fail('unhealthy', 'Container became unhealthy', end.kind === 'passed' ? 'liveness probe ended' : end.reason),
    };
  }

  private decideClaim(passed: boolean): void {
    this.claimDecided?.(passed);
    this.claimDecided = undefined;
  }

  private watch(probe: ProbeHandle): void {
    this.probe = probe;
    if (probe.agentPid !== null) this.record();
  }

  private stopProbe(): void {
    this.probe?.cancel();
    this.probe = undefined;
  }

  private leaveHealthy(): void {
    if (this.healthyAt === undefined) return;
    this.healthyForMs = performance.now() - this.healthyAt;
    this.healthyAt = undefined;
  }

  private target(): ProbeTarget {
    const running = this.running as RunningInstance;
    return {
      app: this.ctx.spec.name,
      instance: this.id,
      endpoint: (port) => running.endpoint(port),
      ...(running.agent === undefined ? {} : { agent: running.agent }),
    };
  }

  /** The spec with the state directory in its environment, so that a process never recorded can still be found. */
  private markedSpec(): AppSpec {
    const { spec, records } = this.ctx;
    return { ...spec, env: { ...spec.env, [STATE_DIR_ENV]: records.root } };
  }

  /** The state directory's record: the app's process and, under sidecar probing, its current agent. */
  private record(): void {
    const agentPid = this.probe?.agentPid ?? null;
    const agent = agentPid === null ? undefined : trackProcess('agent', agentPid);
    const processes = [...(this.running?.tracked ?? []), ...(agent === undefined ? [] : [agent])];
    try {
      this.ctx.records.write({ app: this.ctx.spec.name, instance: this.id, processes });
    } catch (thrown) {
      // What the state directory cannot remember, a crashed supervisor's successor cannot clean up: it does not run.
      this.exited({ code: null, signal: null }, `cannot record it in the state directory: ${(thrown as Error).message}`);
    }
  }

  private move(to: InstanceState, msg: string, reason?: string): void {
    const from = this.current;
    if (!NEXT[from ?? 'new'].includes(to)) throw new Error(`bug: illegal transition of ${this.id} from ${from ?? 'nothing'} to ${to}`);
    this.current = to;
    this.since = new Date();
    this.ctx.transition({
      time: this.since.toISOString(),
      level: LEVEL[to] ?? 'info',
      app: this.ctx.spec.name,
      instance: this.id,
      from,
      to,
      msg,
      ...(reason === undefined ? {} : { reason }),
    });
  }
}

/**
 * A system error's own message names the call and the errno (`listen EMFILE: too many open files`); anything
 * else thrown may quote the spawn options, the app's environment included, which must never reach the log.
 */
function launchFailure(thrown: unknown): string {
  const error = thrown as NodeJS.ErrnoException;
  return typeof error?.code === 'string' && typeof error.syscall === 'string' ? `cannot start: ${error.message}` : 'cannot start: the driver failed unexpectedly';
}
