// A real pipe (a FIFO) to hand a child as its stdout or stderr, in the states a log reader leaves it in: read, full
// and never read, or with no reader at all. Child processes spawned with stdio 'pipe' get a socket pair instead,
// which is not what a shell's `|`, Docker or a supervisor's pipe gives them.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Teardown } from '../checks/fixtures.js';

const FILLER = Buffer.alloc(4096, '.');

export interface Fifo {
  /** The descriptor to hand the child, open for writing (and, unless the reader is gone, for reading too). */
  readonly fd: number;
  /** What the pipe holds that is not filler: what the child managed to write into it. */
  unread(): string;
  /** Whether O_NONBLOCK is set on the descriptor's open file description, which this process shares with the child. */
  nonBlocking(): boolean;
}

/**
 * A FIFO in `dir` (a short temp dir): `reader` 'none' leaves nobody to read it (writes fail with EPIPE); `full`
 * fills it until the kernel refuses more, then takes back `room` bytes (a multiple of 4096: whole pipe buffers), so
 * that exactly that much of what the child writes fits.
 */
export function fifo(t: Teardown, dir: string, name: string, options: { readonly reader?: 'none'; readonly full?: boolean; readonly room?: number } = {}): Fifo {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  // A reader must exist for a FIFO to open for writing without blocking; 'none' closes it once the writer is open.
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const fd = openSync(path, options.reader === 'none' ? constants.O_WRONLY : constants.O_RDWR);
  if (options.reader === 'none') closeSync(reader);
  t.teardown(() => {
    closeSync(fd);
    if (options.reader !== 'none') closeSync(reader);
  });
  /** Bytes of filler in the pipe, ahead of whatever the child writes. */
  let filled = 0;
  if (options.full === true) {
    const filler = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    // Until the kernel refuses more: whatever this pipe's capacity is, it is full.
    for (let i = 0; i < 1 << 16; i++) {
      try {
        filled += writeSync(filler, FILLER);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
    }
    closeSync(filler);
    const room = options.room ?? 0;
    if (room % FILLER.length !== 0) throw new Error(`room ${room} is not a multiple of ${FILLER.length}`);
    for (let taken = 0; taken < room; ) taken += readSync(reader, Buffer.alloc(FILLER.length));
    filled -= room;
  }
  const unread = (): string => {
    const chunk = Buffer.alloc(1 << 16);
    const read: Buffer[] = [];
    try {
      for (let i = 0; i < 1 << 16; i++) {
        const n = readSync(reader, chunk);
        if (n === 0) break;
        read.push(Buffer.from(chunk.subarray(0, n)));
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
    const all = Buffer.concat(read);
    const skip = Math.min(filled, all.length);
    filled -= skip;
    return all.subarray(skip).toString('utf8');
  };
  const nonBlocking = (): boolean => {
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    if (flags === undefined) throw new Error(`no flags in /proc/self/fdinfo/${fd}`);
    return (parseInt(flags, 8) & constants.O_NONBLOCK) !== 0;
  };
  return { fd, unread, nonBlocking };
}
