/**
 * A bound on work in flight: beyond it, work waits its turn in arrival order. The native probe runs every check
 * through one, so that a burst (ten thousand instances starting at once) queues in the supervisor instead of
 * opening ten thousand sockets together, where checks would time out waiting for the supervisor's own event
 * loop and fail apps that are fine. A check's timeout starts when the check does, so it still measures the app.
 */
import { availableParallelism } from 'node:os';

export class Limit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Work running now. */
  get running(): number {
    return this.active;
  }

  /** Work waiting its turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * With a slot free, `work` starts before run() returns (a caller can tell that it did not wait). No async
   * function: the native probe runs every check through here, and the promise and the hops an `await` adds were
   * a measurable share of a check's CPU.
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.max) {
      this.active++;
      return this.start(work);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(work));
  }

  /**
   * run() without promises, for the native probe's every check (checkRound): `begin` runs now with a slot free,
   * or when its turn comes; it holds the slot until leave().
   */
  enter(begin: () => void): void {
    if (this.active < this.max) {
      this.active++;
      begin();
    } else this.waiting.push(begin);
  }

  /** The slot passes straight to the next in line, so a newcomer cannot overtake the queue. */
  leave(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.active--;
    else next();
  }

  /** Runs `work` in a slot already held, and frees the slot once it settles, however. */
  private start<T>(work: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = work();
    } catch (err) {
      this.leave();
      return Promise.reject(err);
    }
    return running.then(
      (value) => {
        this.leave();
        return value;
      },
      (err: unknown) => {
        this.leave();
        throw err;
      },
    );
  }
}

/**
 * Two agents booting per core keeps every core busy (an agent's boot is mostly CPU, with a little I/O) without
 * a thousand of them thrashing a few cores, which made every one of them, and every instance, late.
 */
export function defaultAgentStartConcurrency(): number {
  return Math.max(2, 2 * availableParallelism());
}
