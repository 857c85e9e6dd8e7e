/**
 * A hard deadline on one piece of work, in the manner of Cloud Foundry's executor's timeout step: it owns its
 * timer and the work's cancellation, and it ends once — by `finish()` (the work is done), by expiry, or by the
 * caller's signal aborting — whichever comes first; the others are then no-ops. Its `signal` tells the work to
 * stop, so that a deadline is never only a timer that nobody listens to.
 */
import { type Clock, realClock, type Timer } from './clock.js';
import { deferred } from './deferred.js';

/** Why a deadline ended other than by `finish()`. */
export type DeadlineEnd = 'expired' | 'cancelled';

export class Deadline {
  private timer: Timer | undefined;
  private ended: DeadlineEnd | 'finished' | undefined;
  private abort: AbortController | undefined;

  /**
   * Starts counting `ms` at once. `onEnd` is told once if the deadline passes, or `cancel` aborts, before
   * `finish()`; never after it.
   */
  constructor(
    ms: number,
    private readonly onEnd: (why: DeadlineEnd) => void,
    private readonly options: { readonly clock?: Clock; readonly cancel?: AbortSignal } = {},
  ) {
    const { cancel } = options;
    if (cancel?.aborted) {
      queueMicrotask(() => this.end('cancelled'));
      return;
    }
    cancel?.addEventListener('abort', this.cancelled, { once: true });
    this.restart(ms);
  }

  /** Aborted when the deadline ends other than by `finish()`: what the work listens to. */
  get signal(): AbortSignal {
    this.abort ??= new AbortController();
    if (this.ended !== undefined && this.ended !== 'finished') this.abort.abort();
    return this.abort.signal;
  }

  /** How it ended, if it has. */
  get outcome(): DeadlineEnd | 'finished' | undefined {
    return this.ended;
  }

  /** Counts `ms` again from now (a watchdog fed by a heartbeat); no effect once ended. */
  restart(ms: number): void {
    if (this.ended !== undefined) return;
    const clock = this.options.clock ?? realClock;
    clock.clearTimeout(this.timer);
    this.timer = clock.setTimeout(() => this.end('expired'), ms);
  }

  /** The work is done: the deadline will not end it. True if this call ended it, false if it had already ended. */
  finish(): boolean {
    if (this.ended !== undefined) return false;
    this.release('finished');
    return true;
  }

  private readonly cancelled = (): void => this.end('cancelled');

  private end(why: DeadlineEnd): void {
    if (this.ended !== undefined) return;
    this.release(why);
    this.abort?.abort();
    this.onEnd(why);
  }

  private release(how: DeadlineEnd | 'finished'): void {
    this.ended = how;
    (this.options.clock ?? realClock).clearTimeout(this.timer);
    this.timer = undefined;
    this.options.cancel?.removeEventListener('abort', this.cancelled);
  }
}

/**
 * Waits for `work` to settle, `ms` at most: true if it settled in time. Never rejects. One timer and the promise's
 * own once-only settling, not a Deadline: nothing here is cancelled or aborted, and every agent start that prints
 * runs this on its way out (a Deadline's first use cost a gRPC one-shot about 0.1 M instructions, by callgrind).
 */
export function settlesWithin(work: Promise<unknown>, ms: number, clock: Clock = realClock): Promise<boolean> {
  const { promise, resolve } = deferred<boolean>();
  const timer = clock.setTimeout(() => resolve(false), ms);
  const done = (): void => {
    clock.clearTimeout(timer);
    resolve(true);
  };
  work.then(done, done);
  return promise;
}
