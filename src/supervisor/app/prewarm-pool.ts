/**
 * OpenWhisk's prewarm pool, the claiming half: hand out a ready instance, have the pool backfilled at once,
 * and when the claimed instance fails its first check after the claim, move the claim to another instance
 * instead of failing it. Keeping the pool full and pinged is the app controller's and the instance's work.
 */
import { type Clock, realClock, type Timer } from '../../checks/clock.js';
import type { Instance } from './instance.js';
import type { Claim } from '../../shared/status.js';

export interface PoolSource {
  /** Prewarmed instances that are healthy and unclaimed, best first. */
  ready(): readonly Instance[];
  /** An instance left the pool for a claim; the pool must be backfilled. */
  claimed(): void;
}

interface Waiter {
  readonly take: (instance: Instance | undefined) => void;
  readonly timer: Timer;
}

export class PrewarmPool {
  /** Claims whose instance failed, waiting for the next prewarmed instance to become ready. */
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly source: PoolSource,
    /** How long a rescheduled claim may wait for a ready instance before it is given up. */
    private readonly rescheduleWithinMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** A ready instance's address, or undefined at once when none is ready (the caller answers 503). */
  claim(): Promise<Claim | undefined> {
    const first = this.source.ready()[0];
    if (first === undefined) return Promise.resolve(undefined);
    const until = this.clock.now() + this.rescheduleWithinMs;
    return new Promise((resolve) => this.attempt(first, until, resolve));
  }

  /** A prewarmed instance became ready; the oldest waiting claim takes it. */
  offer(instance: Instance): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) return;
    this.clock.clearTimeout(waiter.timer);
    waiter.take(instance);
  }

  /** Ends every waiting claim without an instance (the supervisor is stopping). */
  close(): void {
    for (const waiter of this.waiters.splice(0)) {
      this.clock.clearTimeout(waiter.timer);
      waiter.take(undefined);
    }
  }

  private attempt(instance: Instance, until: number, resolve: (claim: Claim | undefined) => void): void {
    // claim() moves the instance out of the pool synchronously, so no other claim can take it meanwhile.
    const firstCheck = instance.claim();
    this.source.claimed();
    void firstCheck.then((passed) => {
      if (passed) return resolve({ id: instance.id, address: instance.address as string });
      const next = this.source.ready()[0];
      if (next !== undefined) return this.attempt(next, until, resolve);
      this.wait(until - this.clock.now(), (ready) => (ready === undefined ? resolve(undefined) : this.attempt(ready, until, resolve)));
    });
  }

  private wait(ms: number, take: (instance: Instance | undefined) => void): void {
    if (ms <= 0) return take(undefined);
    const waiter: Waiter = {
      take,
      timer: this.clock.setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        take(undefined);
      }, ms),
    };
    this.waiters.push(waiter);
  }
}
