/**
 * When a long-running command (`lifeguard run`, `lifeguard watch`) should stop: SIGTERM or SIGINT, the end of
 * --duration, its log's reader gone, or a bug anywhere (so that what was started is still stopped in order).
 * Listened for before anything starts, so that a signal during start-up still stops what was started.
 */
export interface StopAsked {
  readonly asked: Promise<void>;
  /** Throws what crashed, if a crash was the reason (exit 127 then, after the orderly stop). */
  rethrow(): void;
}

export function untilStopAsked(durationMs: number | undefined): StopAsked {
  let crash: unknown;
  const asked = new Promise<void>((resolve) => {
    // A second signal changes nothing: the stop under way is already bounded, and leaving before it ends
    // would orphan what was started.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => resolve());
    // The log is the account of what is done; with its reader gone (EPIPE), stop rather than run blind.
    process.stdout.on('error', () => resolve());
    const crashed = (thrown: unknown) => {
      crash ??= thrown;
      resolve();
    };
    process.on('uncaughtException', crashed);
    process.on('unhandledRejection', crashed);
    if (durationMs !== undefined) setTimeout(resolve, durationMs);
  });
  return {
    asked,
    rethrow: () => {
      if (crash !== undefined) throw crash;
    },
  };
}
