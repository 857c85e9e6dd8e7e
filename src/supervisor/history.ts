/**
 * What the supervisor remembers of the recent past, bounded: each instance's last check results (held by the
 * instance, shown in /status and on the page), and, for the status page, the last transitions of the fleet and
 * each app's check latency over the last minutes in fixed buckets.
 */
import type { EventEmitter } from 'node:events';
import type { CheckEvent, SupervisorEvents, Transition } from './types.js';

/** Check results kept per instance when the app does not say (Docker keeps 5). */
export const DEFAULT_CHECK_HISTORY = 10;
/** Transitions the status page can show. */
const TRANSITIONS_KEPT = 100;
/** Latency buckets: 10s each over the last 10 minutes. */
export const LATENCY_BUCKET_MS = 10_000;
const LATENCY_BUCKETS = 60;

/** A fixed-size list that forgets its oldest item. */
export class Ring<T> {
  private readonly items: T[] = [];

  constructor(private readonly size: number) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }

  toArray(): readonly T[] {
    return [...this.items];
  }
}

/** One bucket of an app's check latency. */
export interface LatencyBucket {
  /** Start of the bucket, ms since the epoch. */
  readonly start: number;
  readonly count: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly failed: number;
}

interface OpenBucket {
  start: number;
  count: number;
  sumMs: number;
  maxMs: number;
  failed: number;
}

/** The fleet's recent transitions and latency, from the supervisor's events; tells listeners of each new transition. */
export class FleetHistory {
  private readonly transitions = new Ring<Transition>(TRANSITIONS_KEPT);
  private readonly latency = new Map<string, OpenBucket[]>();
  private readonly listeners = new Set<(transition: Transition) => void>();
  private readonly onTransition = (transition: Transition) => {
    this.transitions.push(transition);
    for (const listener of this.listeners) listener(transition);
  };
  private readonly onCheck = (check: CheckEvent) => this.addLatency(check);

  constructor(
    private readonly source: EventEmitter<SupervisorEvents>,
    private readonly now: () => number = Date.now,
  ) {
    source.on('transition', this.onTransition);
    source.on('check', this.onCheck);
  }

  recentTransitions(): readonly Transition[] {
    return this.transitions.toArray();
  }

  /** Each app's buckets over the last 10 minutes, oldest first, only those with checks in them. */
  latencyByApp(): Record<string, LatencyBucket[]> {
    const since = this.bucketStart(this.now()) - (LATENCY_BUCKETS - 1) * LATENCY_BUCKET_MS;
    const out: Record<string, LatencyBucket[]> = {};
    for (const [app, buckets] of this.latency) {
      out[app] = buckets.filter((b) => b.start >= since).map((b) => ({ start: b.start, count: b.count, meanMs: b.sumMs / b.count, maxMs: b.maxMs, failed: b.failed }));
    }
    return out;
  }

  /** Listens to every new transition; returns how to stop listening. */
  subscribe(listener: (transition: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.source.off('transition', this.onTransition);
    this.source.off('check', this.onCheck);
    this.listeners.clear();
  }

  private addLatency(check: CheckEvent): void {
    const start = this.bucketStart(this.now());
    const buckets = this.latency.get(check.app) ?? [];
    this.latency.set(check.app, buckets);
    let last = buckets.at(-1);
    if (last === undefined || last.start !== start) {
      last = { start, count: 0, sumMs: 0, maxMs: 0, failed: 0 };
      buckets.push(last);
      if (buckets.length > LATENCY_BUCKETS) buckets.shift();
    }
    last.count++;
    last.sumMs += check.latencyMs;
    last.maxMs = Math.max(last.maxMs, check.latencyMs);
    if (!check.passed) last.failed++;
  }

  private bucketStart(ms: number): number {
    return Math.floor(ms / LATENCY_BUCKET_MS) * LATENCY_BUCKET_MS;
  }
}
