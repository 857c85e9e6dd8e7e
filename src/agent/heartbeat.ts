import { write } from 'node:fs';
import type { RoundObserver } from './types.js';

export type WriteToFd = (fd: number, line: string, done: (err: NodeJS.ErrnoException | null) => void) => void;

const writeToFd: WriteToFd = (fd, line, done) => write(fd, line, done);

/**
 * The sidecar's heartbeat: one line per completed round, `{"attempt":N,"passed":bool,"elapsedMs":N}`, on an
 * inherited file descriptor, so that the supervisor can tell a stuck or stopped agent from a quiet healthy one.
 *
 * The heartbeat must never hurt the checks it reports on. Writes are asynchronous (a blocking pipe whose reader
 * stalls would otherwise freeze the agent), at most one is in flight (a reader that stopped reading must not make
 * us queue lines without bound; a beat that finds the previous one still pending is dropped, which the reader
 * sees as silence, the truth), and every error is swallowed (EPIPE when the reader is gone, EAGAIN on a
 * non-blocking pipe that is full, EBADF when no descriptor was inherited). Node ignores SIGPIPE, so EPIPE
 * arrives as an error rather than killing us.
 */
export function createHeartbeat(fd: number, writeLine: WriteToFd = writeToFd): RoundObserver {
  let writing = false;
  const done = (): void => {
    writing = false;
  };
  return (round) => {
    if (writing) return;
    writing = true;
    const line = `{"attempt":${round.attempt},"passed":${round.passed},"elapsedMs":${Math.round(round.elapsedMs)}}\n`;
    try {
      writeLine(fd, line, done);
    } catch {
      // fs.write validates its arguments synchronously; a bad descriptor is a lost heartbeat, not a crash.
      writing = false;
    }
  };
}
