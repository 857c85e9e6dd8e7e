/**
 * last-words.ts's contract for the single executable built with Bun (scripts/lib/bun-compile.mjs swaps this file in
 * for last-words.ts): written through Bun's own file sinks. Bun builds process.stdout and process.stderr out of its
 * node:stream layer, and touching one costs a start about 450 page faults and 9 ms of CPU (`npm run bench:agent`'s
 * failing and gRPC rows print; a sink costs about 20 faults).
 *
 * A pipe or a terminal is written through a description of its own, opened again through /proc/self/fd with
 * O_NONBLOCK (Bun's sink opens so): the write waits on the event loop, so the deadline fires on a full pipe, and
 * the description the agent shares with its parent (a shell, the next command of a pipeline) is left blocking as
 * it was. A regular file is written through its own descriptor, so that its offset and O_APPEND hold (opening it
 * again would write at its start). A socket (journald's stdout) cannot be opened through /proc, nor anything
 * without /proc mounted: Bun's sink on the descriptor itself then sets O_NONBLOCK on the shared description, as
 * both runtimes' stdout streams do.
 */
import { settlesWithin } from '../checks/deadline.js';
import type { Told } from './invocation.js';

/** The part of Bun's API used here (no Bun types are installed: the library and supervisor run on Node). */
interface BunRuntime {
  file(path: string | number): { readonly size: number; writer(): BunSink };
}
interface BunSink {
  /** Takes the bytes: what the descriptor does not take at once is queued and written as it drains. */
  write(text: string): number;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}

export async function writeWithin(told: Told, deadlineMs: number): Promise<void> {
  const runtime = (globalThis as { Bun?: BunRuntime }).Bun;
  if (runtime === undefined) throw new Error('last-words-bun.ts runs under Bun only');
  await settlesWithin(Promise.all([say(runtime, 1, told.stdout), say(runtime, 2, told.stderr)]), deadlineMs);
}

/** Settles once `text` is written or cannot be (EPIPE, EBADF: no one left to tell; the exit code still says it). */
async function say(runtime: BunRuntime, fd: 1 | 2, text: string | undefined): Promise<void> {
  if (!text) return;
  // A regular file has a size; a pipe, a terminal, a socket or /dev/null has none (Bun: Infinity).
  if (!Number.isFinite(runtime.file(fd).size)) {
    try {
      const own = runtime.file(`/proc/self/fd/${fd}`).writer();
      own.write(text);
      await own.flush();
      await own.end();
      return;
    } catch (error) {
      // The open fails (ENXIO: a socket; ENOENT: no /proc) before a byte is written; a write error ends it here.
      if (!openFailed(error)) return;
    }
  }
  try {
    const shared = runtime.file(fd).writer();
    shared.write(text);
    await shared.flush();
  } catch {
    // Nothing to do: the reader is gone.
  }
}

/** Whether reopening the descriptor failed, as opposed to writing to it. */
function openFailed(error: unknown): boolean {
  return (error as { syscall?: unknown }).syscall === 'open';
}
