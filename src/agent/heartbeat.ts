import { write } from 'node:fs';
import type { RoundObserver } from '../engine/types.js';
import { BOOTED_BEAT, readyBeat, roundBeat } from '../protocol/heartbeat.js';

export type WriteToFd = (fd: number, line: string, done: (err: NodeJS.ErrnoException | null) => void) => void;

const writeToFd: WriteToFd = (fd, line, done) => write(fd, line, done);

export interface HeartbeatWriter {
  /** The agent is up: the supervisor's pacing of agent starts lets the next one boot. */
  booted(): void;
  readonly round: RoundObserver;
  /** Lifecycle: readiness passed. Never dropped (nor is `booted`): it waits for a beat in flight instead. */
  ready(elapsedMs: number): void;
}

/**
 * Writes the heartbeat (src/protocol/heartbeat.ts) to an inherited file descriptor.
 *
 * The heartbeat must never hurt the checks it reports on. Writes are asynchronous (a blocking pipe whose reader
 * stalls would otherwise freeze the agent), at most one is in flight and at most one waits behind it (a reader
 * that stopped reading must not make us queue lines without bound: a round beat that finds a round waiting takes its
 * place, so the reader gets the latest round, and silence while it reads nothing, the truth; `booted` and `ready`,
 * said once each, wait in order behind it and are never replaced), and every error is swallowed (EPIPE when the reader is gone, EAGAIN on a
 * non-blocking pipe that is full, EBADF when no descriptor was inherited). Node ignores SIGPIPE, so EPIPE
 * arrives as an error rather than killing us; it means the reader, the supervisor, is gone for good, and
 * `readerGone` is told so (an agent no one listens to any more must end rather than check on for ever).
 */
export function createHeartbeat(fd: number, writeLine: WriteToFd = writeToFd, readerGone: () => void = () => {}): HeartbeatWriter {
  let writing = false;
  /**
   * The lines waiting for the one in flight, in order: a round waiting last gives way to a later round; a `booted`
   * or `ready` line is never dropped, nor is the round before it (the round that made the app ready). At most
   * five: the two lines said once and a round before and after each.
   */
  const held: { readonly line: string; readonly must: boolean }[] = [];
  const send = (line: string): void => {
    writing = true;
    try {
      writeLine(fd, line, done);
    } catch {
      // fs.write validates its arguments synchronously; a bad descriptor is a lost heartbeat, not a crash.
      writing = false;
    }
  };
  const done = (error: NodeJS.ErrnoException | null): void => {
    writing = false;
    if (error?.code === 'EPIPE') return readerGone();
    const next = held.shift();
    if (next !== undefined) send(next.line);
  };
  const must = (line: string): void => {
    if (writing) held.push({ line, must: true });
    else send(line);
  };
  return {
    booted: () => must(BOOTED_BEAT),
    round: (round) => {
      if (!writing) return send(roundBeat(round));
      const last = held.length - 1;
      const waiting = { line: roundBeat(round), must: false };
      if (held[last]?.must === false) held[last] = waiting;
      else held.push(waiting);
    },
    ready: (elapsedMs) => must(readyBeat(elapsedMs)),
  };
}
