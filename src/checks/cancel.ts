/**
 * Cancellation of work in flight by a method call. A probe loop runs a check every few seconds for months; with
 * an AbortSignal, every check added and removed an event listener (EventTarget's validation and bookkeeping, a
 * measurable share of a check's CPU), and every loop and watch held an AbortController. A CancelScope is a set:
 * work in flight enters it, leaves it when done, and `cancel()` calls each one's `cancel()`.
 *
 * The public entry points (runCheck, httpCheck, tcpCheck, runAgent) take an AbortSignal as well: `Cancel` is
 * either, and watchCancel/unwatchCancel are the one place that tells them apart.
 */
export interface Cancellable {
  cancel(): void;
}

export class CancelScope {
  private state: 'open' | 'cancelled' = 'open';
  /**
   * What is in flight: a probe loop's round is one check nearly always, held in `one` (a Set that fills and empties
   * every round rehashes as it goes); more go to `more`, made when needed.
   */
  private one: Cancellable | undefined;
  private more: Set<Cancellable> | undefined;
  private controller: AbortController | undefined;

  get cancelled(): boolean {
    return this.state === 'cancelled';
  }

  /** Registers work in flight; false when the scope is cancelled already, and the work must not start. */
  enter(work: Cancellable): boolean {
    if (this.state === 'cancelled') return false;
    if (this.one === undefined) this.one = work;
    else (this.more ??= new Set()).add(work);
    return true;
  }

  leave(work: Cancellable): void {
    if (this.one === work) this.one = undefined;
    else this.more?.delete(work);
  }

  /** Cancels everything in flight, and everything that would enter later. */
  cancel(): void {
    if (this.state === 'cancelled') return;
    this.state = 'cancelled';
    const works = [...(this.one === undefined ? [] : [this.one]), ...(this.more ?? [])];
    this.one = undefined;
    this.more = undefined;
    for (const work of works) work.cancel();
    this.controller?.abort();
  }

  /** Aborted with the scope, made on first use: for work that takes an AbortSignal (a child process). */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.state === 'cancelled') this.controller.abort();
    return this.controller.signal;
  }
}

export type Cancel = AbortSignal | CancelScope;

/** Work cancelled by a signal is its abort listener too (an object, so that no closure is made per attempt). */
export interface CancellableWork extends Cancellable {
  handleEvent(): void;
}

export function isCancelled(cancel: Cancel | undefined): boolean {
  return cancel === undefined ? false : cancel instanceof CancelScope ? cancel.cancelled : cancel.aborted;
}

/** From now on `cancel` cancels `work`; false when it is cancelled already. */
export function watchCancel(cancel: Cancel | undefined, work: CancellableWork): boolean {
  if (cancel === undefined) return true;
  if (cancel instanceof CancelScope) return cancel.enter(work);
  if (cancel.aborted) return false;
  cancel.addEventListener('abort', work, { once: true });
  return true;
}

export function unwatchCancel(cancel: Cancel | undefined, work: CancellableWork): void {
  if (cancel instanceof CancelScope) cancel.leave(work);
  else cancel?.removeEventListener('abort', work);
}
