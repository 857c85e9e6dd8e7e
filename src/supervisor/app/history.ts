/**
 * What the supervisor remembers of the recent past, bounded: each instance's last check results (held by the
 * instance, shown in /status and on the page), and, for the status page, the last transitions of the fleet and
 * each app's check latency over the last minutes in fixed buckets.
 */
import type { EventEmitter } from 'node:events';
import type { CheckEvent, CheckRecord } from '../../shared/status.js';
import type { SupervisorEvents } from '../spec/types.js';
import type { Transition } from '../../shared/transition.js';

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

const PHASES: readonly CheckRecord['phase'][] = ['readiness', 'liveness', 'prewarm', 'routing'];

/**
 * An instance's last check results, in one array of numbers: a supervisor of ten thousand instances keeps ten
 * results of each, and a record object with its ISO time string per check (~100 bytes, and the work of making
 * them at every check) cost more than everything else it keeps of an instance. The records are made when asked
 * for (/status), which is rare.
 */
/** To a tenth of a millisecond: a check's latency measured to the nanosecond says nothing more, and reads worse. */
function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export class CheckHistory {
  /** Three numbers a result: when (epoch ms), latency, phase and verdict (phase index × 2 + passed). */
  private slots: Float64Array | undefined;
  private next = 0;
  private count = 0;

  constructor(private readonly size: number) {}

  push(time: number, phase: CheckRecord['phase'], passed: boolean, latencyMs: number): void {
    this.slots ??= new Float64Array(this.size * 3);
    const at = this.next * 3;
    this.slots[at] = time;
    this.slots[at + 1] = latencyMs;
    this.slots[at + 2] = PHASES.indexOf(phase) * 2 + (passed ? 1 : 0);
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  /** Oldest first. */
  toArray(): readonly CheckRecord[] {
    const { slots } = this;
    if (slots === undefined) return [];
    const records: CheckRecord[] = [];
    for (let i = 0; i < this.count; i++) {
      const at = ((this.next - this.count + i + this.size) % this.size) * 3;
      const code = slots[at + 2] as number;
      records.push({ time: new Date(slots[at] as number).toISOString(), phase: PHASES[code >> 1] as CheckRecord['phase'], passed: (code & 1) === 1, latencyMs: roundMs(slots[at + 1] as number) });
    }
    return records;
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
    let buckets = this.latency.get(check.app);
    if (buckets === undefined) {
      buckets = [];
      this.latency.set(check.app, buckets);
    }
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
