/**
 * The supervisor's log: one line per transition and nothing else, so that a quiet log means a healthy fleet.
 * Lines are written whole with one write() each, so that lines from many instances never interleave.
 * A reader that stops reading but keeps its end open would make the stream queue every line in memory for ever: past
 * MAX_UNREAD_BYTES unread, lines are dropped and counted, and the count is told once the reader catches up.
 */
import type { Writable } from 'node:stream';
import type { Transition, WatchTransition } from '../../shared/transition.js';

/** A line of either log: the supervisor's instances and routing, or `lifeguard watch`'s containers. */
type LoggedTransition = Transition | WatchTransition;

export type LogFormat = 'json' | 'text';

/**
 * About eighty thousand lines: a bound for a reader that stopped, and room for what a fleet says at once. A fleet of
 * ten thousand schedules every instance in one turn of the event loop, ~2 MB of lines queued before any reader, however
 * fast, can take one; 2 MiB here dropped ~5% of such a start (bench:steady's 10,000 never all counted healthy).
 */
export const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

export class TransitionLog {
  private dropped = 0;

  constructor(
    private readonly stream: Writable,
    private readonly format: LogFormat = 'json',
    /** Told how many lines were dropped, once the reader has taken what was queued. */
    private readonly onDropped: (lines: number) => void = () => {},
  ) {}

  /** Suits `supervisor.on('transition', log.write)`. */
  readonly write = (transition: LoggedTransition): void => {
    if (this.stream.writableLength >= MAX_UNREAD_BYTES) {
      // Past the stream's high-water mark a write has returned false, so 'drain' comes when the queue empties.
      if (this.dropped++ === 0) this.stream.once('drain', this.caughtUp);
      return;
    }
    this.stream.write(this.format === 'json' ? jsonLine(transition) : textLine(transition));
  };

  private readonly caughtUp = (): void => {
    const lines = this.dropped;
    this.dropped = 0;
    this.onDropped(lines);
  };
}

export function jsonLine(t: LoggedTransition): string {
  // Fixed field order, so that the log reads the same from line to line; optional fields only when there is one.
  const { time, level, app, instance, from, to, msg, reason, cause, replaces, restart, restartLimit } = t;
  return `${JSON.stringify({ time, level, app, instance, from, to, msg, reason, cause, replaces, restart, restartLimit })}\n`;
}

export function textLine(t: LoggedTransition): string {
  const reason = t.reason === undefined ? '' : ` (${t.reason})`;
  return `${t.time} ${t.level.toUpperCase().padEnd(5)} ${t.instance} ${t.from ?? '-'} -> ${t.to}: ${t.msg}${reason}\n`;
}
