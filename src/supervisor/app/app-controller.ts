/**
 * One app: keeps its desired count of instances and its prewarm pool full (backfill), replaces every instance
 * that ends without being asked to (reschedule) as the restart policy says, and moves its instances to a changed
 * spec (a config applied to the running supervisor) by scaling them or rolling them.
 *
 * Every instance the app holds counts toward its desired count whatever its state — starting, healthy, failed and
 * on its way to a replacement, given up — so backfill never over-creates; a destroyed instance leaves the count in
 * the same step that its replacement enters it. Only an instance destroyed on request (scaled down, rolled,
 * released) leaves the count at once, since nothing will replace it.
 */
import { isDeepStrictEqual } from 'node:util';
import { formatDuration } from '../../checks/duration.js';
import type { Driver } from '../drivers/driver.js';
import { type DestroyCause, Instance, type InstanceContext, type Role } from './instance.js';
import { PrewarmPool } from './prewarm-pool.js';
import type { LivenessPlan, Probe } from '../../probes/probe.js';
import { decideRestart } from '../../shared/restart-policy.js';
import { DEFAULT_ROLLOUT, planRollout } from './rollout.js';
import type { AppSpec } from '../spec/types.js';
import type { AppStatus, Claim, RoutableInstance } from '../../shared/status.js';
import type { TransitionCause, TransitionFacts } from '../../shared/transition.js';

/** What a spec runs on: its driver, its probing strategy, the ping of its prewarmed instances. */
interface SpecResources {
  readonly driver: Driver;
  readonly probe: Probe;
  readonly pingPlan: LivenessPlan;
}

/** What an app's instances share; the controller adds its own bookkeeping hooks, and the resources of each spec. */
export type ControllerContext = Omit<InstanceContext, 'spec' | 'ready' | 'destroyed' | keyof SpecResources> & {
  readonly resources: (spec: AppSpec) => SpecResources;
};

/** What applying a spec did to a running app: `updated` is a new spec that no member ran yet (none was running). */
export type AppChange = 'unchanged' | 'scaled' | 'rolling' | 'updated';

type Roll = { readonly state: 'idle' } | { readonly state: 'rolling' } | { readonly state: 'halted'; readonly reason: string };

const REQUESTED: ReadonlySet<TransitionCause> = new Set<DestroyCause>(['asked', 'stopping', 'rolled', 'scaled-down', 'removed']);

const ID_ORDER = new Intl.Collator('en', { numeric: true });

export class AppController {
  private readonly instances = new Map<string, Instance>();
  private readonly pool: PrewarmPool;
  private current: AppSpec;
  /** The specs instances run, by identity, each with its generation; specs equal but for counts share one. */
  private readonly generations = new Map<AppSpec, number>();
  private readonly contexts = new Map<AppSpec, InstanceContext>();
  private generation = 0;
  private roll: Roll = { state: 'idle' };
  /** A roll step is due once the transition being handled is done. */
  private stepDue = false;
  private serial = 0;
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(
    spec: AppSpec,
    private readonly shared: ControllerContext,
  ) {
    this.current = spec;
    this.generations.set(spec, 0);
    this.pool = new PrewarmPool(
      {
        ready: () => [...this.instances.values()].filter((i) => i.role === 'prewarm' && i.state === 'healthy' && this.isCurrent(i)),
        claimed: () => this.step(),
      },
      spec.startupTimeoutMs,
      shared.clock,
    );
  }

  get spec(): AppSpec {
    return this.current;
  }

  start(): void {
    this.step();
  }

  /**
   * Moves the app to `next`. A change of counts alone scales it; any other change rolls its instances over to
   * the new spec (README "Reload and apply"). Instances that were given up are forgotten, so that the applied
   * config gets its whole count again; an app that did not change is not touched.
   */
  update(next: AppSpec): AppChange {
    const sameTemplate = isTemplate(next, this.current);
    const counts = next.instances !== this.current.instances || next.prewarm !== this.current.prewarm;
    const outdatedBefore = this.outdated().length > 0;
    const earlier = [...this.generations].find(([spec]) => isTemplate(spec, next))?.[1];
    this.generation = earlier ?? Math.max(...this.generations.values()) + 1;
    this.generations.set(next, this.generation);
    this.current = next;
    // Nothing to move (a rollout policy changed at most, kept for the next roll): no instance is touched, and the
    // spec it replaces is dropped (reload after unchanged reload must not pile up specs).
    if (sameTemplate && !counts && !outdatedBefore) {
      this.forgetUnusedSpecs();
      return 'unchanged';
    }
    for (const instance of this.instances.values()) if (instance.state === 'given-up') this.instances.delete(instance.id);
    const rolling = this.outdated().length > 0;
    this.roll = rolling ? { state: 'rolling' } : { state: 'idle' };
    this.step();
    return rolling ? 'rolling' : sameTemplate ? 'scaled' : 'updated';
  }

  claim(): Promise<Claim | undefined> {
    return this.pool.claim();
  }

  /** Ends a claimed instance at its claimer's request; false when `id` is no claimed instance of this app. */
  async release(id: string): Promise<boolean> {
    const instance = this.instances.get(id);
    if (instance === undefined || instance.role !== 'claimed') return false;
    await instance.destroy('released by its claimer', 'asked');
    return true;
  }

  /** Destroys every instance (each with its grace period) and resolves when all are gone. Idempotent. */
  stop(cause: 'stopping' | 'removed' = 'stopping'): Promise<void> {
    if (this.stopped === undefined) {
      this.stopping = true;
      this.pool.close();
      const reason = cause === 'removed' ? 'its app was removed from the config' : 'supervisor stopping';
      this.stopped = Promise.all([...this.instances.values()].map((instance) => instance.destroy(reason, cause))).then(() => {});
    }
    return this.stopped;
  }

  status(): AppStatus {
    const all = [...this.instances.values()];
    const members = this.members();
    const outdated = this.outdated().length;
    const roll = this.roll;
    return {
      name: this.current.name,
      desired: this.current.instances,
      prewarmDesired: this.current.prewarm,
      instances: all.filter((i) => i.role !== 'prewarm').map((i) => i.status()),
      prewarm: all.filter((i) => i.role === 'prewarm').map((i) => i.status()),
      ...(roll.state === 'idle' ? {} : { rollout: { state: roll.state, updated: members.length - outdated, outdated, ...(roll.state === 'halted' ? { reason: roll.reason } : {}) } }),
    };
  }

  /** The routable instances, sorted by instance id (web-2 before web-10). */
  endpoints(): RoutableInstance[] {
    const routed = [...this.instances.values()].filter((i) => i.routable && i.address !== null);
    return routed.sort((a, b) => ID_ORDER.compare(a.id, b.id)).map((i) => ({ instance: i.id, address: i.address as string }));
  }

  /**
   * Brings the instances toward the current spec: backfills and scales down each role to its count, and, while
   * a roll is under way, takes its next step. Runs after every change that can move it on.
   */
  private step(): void {
    if (this.stopping) return;
    for (const instance of this.instances.values()) {
      // Gone already, and on a spec no longer wanted: nothing to destroy, no place to keep.
      if (instance.state === 'given-up' && !this.isCurrent(instance)) this.instances.delete(instance.id);
      else if (instance.role === 'prewarm' && !this.isCurrent(instance) && !leaving(instance)) void instance.destroy('replaced: its app was changed', 'rolled');
    }
    this.keep('prewarm', this.current.prewarm);
    const members = this.members();
    const outdated = members.filter((i) => !this.isCurrent(i));
    if (outdated.length === 0) {
      this.roll = { state: 'idle' };
      this.forgetUnusedSpecs();
      return this.keep('member', this.current.instances);
    }
    if (this.roll.state !== 'rolling') return;
    const updated = members.filter((i) => this.isCurrent(i));
    const { instances: desired, rollout = DEFAULT_ROLLOUT } = this.current;
    const plan = planRollout({
      desired,
      policy: rollout,
      updated: updated.length,
      updatedAvailable: updated.filter(serving).length,
      outdated: outdated.map((instance) => ({ instance, available: serving(instance) })),
    });
    for (const instance of plan.destroy) void instance.destroy('replaced by a rolling update', 'rolled');
    for (let n = 1; n <= plan.create; n++) {
      this.create('member', 0, 0, `Rolling update: scheduled replacement ${updated.length + n} of ${desired}`, { cause: 'roll' });
    }
  }

  /** Backfills `role` up to `count`, or scales it down: what does not serve goes first, the newest first. */
  private keep(role: Exclude<Role, 'claimed'>, count: number): void {
    const held = [...this.instances.values()].filter((i) => i.role === role && !leaving(i));
    const what = role === 'member' ? 'instances' : 'prewarmed instances';
    for (let n = held.length + 1; n <= count; n++) this.create(role, 0, 0, `Backfilling: scheduled ${n} of ${count} ${what}`, { cause: 'backfill' });
    const surplus = held.reverse().sort((a, b) => Number(serving(a)) - Number(serving(b))).slice(0, Math.max(0, held.length - count));
    for (const instance of surplus) {
      if (instance.state === 'given-up') this.instances.delete(instance.id);
      else void instance.destroy(`scaled down to ${count} ${what}`, 'scaled-down');
    }
  }

  private destroyed(instance: Instance, cause: TransitionCause): void {
    // A claimed instance is its claimer's: the pool was backfilled when it was handed out.
    if (REQUESTED.has(cause) || this.stopping || instance.role === 'claimed') {
      this.instances.delete(instance.id);
      return this.step();
    }
    if (this.roll.state === 'rolling' && instance.role === 'member') {
      if (this.isCurrent(instance) && !instance.everHealthy) return this.halt(instance, cause);
      // An outdated instance's place goes to a replacement on the current spec, not to a restart of its own.
      if (!this.isCurrent(instance)) {
        this.instances.delete(instance.id);
        return this.step();
      }
    }
    if (cause === 'permanent') {
      instance.giveUp('Gave up at once: the start cannot succeed on a retry (not rescheduling)', 'permanent');
      return;
    }
    const { maxRestarts } = this.current.restart;
    const decision = decideRestart(this.current.restart, instance.restarts, instance.healthyForMs);
    if (decision.kind === 'give-up') {
      // It keeps its place, so that backfill does not bring back what the policy gave up on.
      instance.giveUp(`Gave up after ${decision.restarts} restarts: not rescheduling`);
      return;
    }
    this.instances.delete(instance.id);
    const when = decision.delayMs === 0 ? 'at once' : `in ${formatDuration(decision.delayMs)}`;
    const msg = `Rescheduled to replace ${instance.id}, starting ${when} (restart ${decision.restarts} of ${maxRestarts})`;
    // A halted roll leaves each instance on its spec: the replacement runs the spec the failed one ran.
    this.create(instance.role, decision.restarts, decision.delayMs, msg, { cause: 'restart', replaces: instance.id, restart: decision.restarts, restartLimit: maxRestarts }, instance.spec);
  }

  /** A replacement never became healthy: the roll stops where it is, and says why on the replacement's last line. */
  private halt(instance: Instance, cause: TransitionCause): void {
    const outdated = this.outdated().length;
    const reason = `replacement ${instance.id} never became healthy (${cause})`;
    this.roll = { state: 'halted', reason };
    instance.giveUp(`Rolling update halted: ${reason}; ${outdated} instances keep the previous spec (apply a config again to retry)`, 'roll-halted');
  }

  private create(role: Role, restarts: number, delayMs: number, msg: string, facts: TransitionFacts, spec: AppSpec = this.current): void {
    const instance = new Instance(`${this.current.name}-${++this.serial}`, role, restarts, this.contextFor(spec));
    this.instances.set(instance.id, instance);
    instance.schedule(delayMs, msg, facts);
  }

  private contextFor(spec: AppSpec): InstanceContext {
    let context = this.contexts.get(spec);
    if (context === undefined) {
      context = {
        ...this.shared,
        ...this.shared.resources(spec),
        spec,
        transition: (transition) => {
          this.shared.transition(transition);
          if (this.roll.state === 'rolling') this.stepSoon();
        },
        ready: (instance) => this.pool.offer(instance),
        destroyed: (instance, cause) => this.destroyed(instance, cause),
      };
      this.contexts.set(spec, context);
    }
    return context;
  }

  /** A roll moves on once the transition that may let it (a replacement became available) is handled whole. */
  private stepSoon(): void {
    if (this.stepDue) return;
    this.stepDue = true;
    queueMicrotask(() => {
      this.stepDue = false;
      this.step();
    });
  }

  /** Members that hold a place: all but those being destroyed on request, which nothing will replace. */
  private members(): Instance[] {
    return [...this.instances.values()].filter((i) => i.role === 'member' && !leaving(i));
  }

  /** Members on an earlier spec than the current one: what a roll replaces. */
  private outdated(): Instance[] {
    return this.members().filter((i) => !this.isCurrent(i));
  }

  private isCurrent(instance: Instance): boolean {
    return this.generations.get(instance.spec) === this.generation;
  }

  /** Once no instance runs an earlier spec, its generation and context are dropped. */
  private forgetUnusedSpecs(): void {
    const used = new Set([...this.instances.values()].map((i) => i.spec));
    for (const spec of this.generations.keys()) {
      if (spec === this.current || used.has(spec)) continue;
      this.generations.delete(spec);
      this.contexts.delete(spec);
    }
  }
}

/** Two specs that differ at most in their counts and rollout policy run the same instances. */
function isTemplate(a: AppSpec, b: AppSpec): boolean {
  const template = (spec: AppSpec) => ({ ...spec, instances: 0, prewarm: 0, rollout: undefined });
  return isDeepStrictEqual(template(a), template(b));
}

/**
 * It serves: a member that is routable (healthy, and passing its routing checks where the app has them), as
 * Kubernetes counts ready pods; a prewarmed instance that is healthy.
 */
function serving(instance: Instance): boolean {
  return instance.role === 'member' ? instance.routable : instance.state === 'healthy';
}

/** Being destroyed on request, or gone: it holds no place in its app's count. */
function leaving(instance: Instance): boolean {
  return instance.state === 'destroyed' || (instance.state === 'destroying' && instance.destroyCause !== undefined && REQUESTED.has(instance.destroyCause));
}
