/**
 * One app: keeps its desired count of instances and its prewarm pool full (backfill), and replaces every
 * instance that ends without being asked to (reschedule) as the restart policy says. Every instance the app
 * holds counts toward its desired count whatever its state — starting, healthy, being destroyed, given up —
 * so backfill never over-creates; a destroyed instance leaves the count in the same step that its replacement
 * enters it.
 */
import { formatDuration } from '../checks/duration.js';
import { Instance, type InstanceContext, type Role } from './instance.js';
import { PrewarmPool } from './prewarm-pool.js';
import { decideRestart } from './restart-policy.js';
import type { AppSpec, AppStatus, Claim, TransitionCause, TransitionFacts } from './types.js';

/** What an app's instances share; the controller adds its own bookkeeping hooks. */
export type ControllerContext = Omit<InstanceContext, 'spec' | 'ready' | 'destroyed'>;

export class AppController {
  private readonly instances = new Map<string, Instance>();
  private readonly pool: PrewarmPool;
  private readonly context: InstanceContext;
  private serial = 0;
  private stopping = false;

  constructor(
    readonly spec: AppSpec,
    shared: ControllerContext,
  ) {
    this.pool = new PrewarmPool(
      {
        ready: () => [...this.instances.values()].filter((i) => i.role === 'prewarm' && i.state === 'healthy'),
        claimed: () => this.backfill(),
      },
      spec.startTimeoutMs,
      shared.clock,
    );
    this.context = {
      ...shared,
      spec,
      ready: (instance) => this.pool.offer(instance),
      destroyed: (instance, cause) => this.destroyed(instance, cause),
    };
  }

  start(): void {
    this.backfill();
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

  /** Destroys every instance (each with its grace period) and resolves when all are gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pool.close();
    await Promise.all([...this.instances.values()].map((instance) => instance.destroy('supervisor stopping', 'stopping')));
  }

  status(): AppStatus {
    const all = [...this.instances.values()];
    return {
      name: this.spec.name,
      desired: this.spec.instances,
      prewarmDesired: this.spec.prewarm,
      instances: all.filter((i) => i.role !== 'prewarm').map((i) => i.status()),
      prewarm: all.filter((i) => i.role === 'prewarm').map((i) => i.status()),
    };
  }

  private backfill(): void {
    if (this.stopping) return;
    const desired: readonly [Role, number, string][] = [
      ['member', this.spec.instances, 'instances'],
      ['prewarm', this.spec.prewarm, 'prewarmed instances'],
    ];
    for (const [role, count, what] of desired) {
      const held = [...this.instances.values()].filter((i) => i.role === role).length;
      for (let n = held + 1; n <= count; n++) this.create(role, 0, 0, `Backfilling: scheduled ${n} of ${count} ${what}`, { cause: 'backfill' });
    }
  }

  private destroyed(instance: Instance, cause: TransitionCause): void {
    // A claimed instance is its claimer's: the pool was backfilled when it was handed out.
    if (cause === 'asked' || cause === 'stopping' || this.stopping || instance.role === 'claimed') {
      this.instances.delete(instance.id);
      return;
    }
    if (cause === 'permanent') {
      instance.giveUp('Gave up at once: the start cannot succeed on a retry (not rescheduling)', 'permanent');
      return;
    }
    const { maxRestarts } = this.spec.restart;
    const decision = decideRestart(this.spec.restart, instance.restarts, instance.healthyForMs);
    if (decision.kind === 'give-up') {
      // It keeps its place, so that backfill does not bring back what the policy gave up on.
      instance.giveUp(`Gave up after ${decision.restarts} restarts: not rescheduling`);
      return;
    }
    this.instances.delete(instance.id);
    const when = decision.delayMs === 0 ? 'at once' : `in ${formatDuration(decision.delayMs)}`;
    const msg = `Rescheduled to replace ${instance.id}, starting ${when} (restart ${decision.restarts} of ${maxRestarts})`;
    this.create(instance.role, decision.restarts, decision.delayMs, msg, { cause: 'restart', replaces: instance.id, restart: decision.restarts, restartLimit: maxRestarts });
  }

  private create(role: Role, restarts: number, delayMs: number, msg: string, facts: TransitionFacts): void {
    const instance = new Instance(`${this.spec.name}-${++this.serial}`, role, restarts, this.context);
    this.instances.set(instance.id, instance);
    instance.schedule(delayMs, msg, facts);
  }
}
