/**
 * The supervisor's log: one line per transition and nothing else, so that a quiet log means a healthy fleet.
 * Lines are written whole with one write() each, so that lines from many instances never interleave.
 */
import type { Writable } from 'node:stream';
import type { Transition, WatchTransition } from '../../shared/transition.js';

/** A line of either log: the supervisor's instances and routing, or `lifeguard watch`'s containers. */
type LoggedTransition = Transition | WatchTransition;

export type LogFormat = 'json' | 'text';

export class TransitionLog {
  constructor(
    private readonly stream: Writable,
    private readonly format: LogFormat = 'json',
  ) {}

  /** Suits `supervisor.on('transition', log.write)`. */
  readonly write = (transition: LoggedTransition): void => {
    this.stream.write(this.format === 'json' ? jsonLine(transition) : textLine(transition));
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
