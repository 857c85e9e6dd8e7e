/**
 * last-words.ts's contract for the single executable built with Bun (scripts/lib/bun-compile.mjs swaps this file in
 * for last-words.ts): written through Bun's own file API. Bun builds process.stdout and process.stderr out of its
 * node:stream layer, and touching one costs a start about 450 page faults and 9 ms of CPU (`npm run bench:agent`'s
 * gRPC row prints `status: SERVING`; Bun.write costs it about 15 faults, a file sink about 30).
 *
 * A pipe or a terminal is written through a description of its own: Bun.write opens /proc/self/fd/N again (with
 * O_NONBLOCK, without O_TRUNC) and waits on the event loop while a full pipe drains, so the deadline fires on a full
 * pipe, and the description the agent shares with its parent (a shell, the next command of a pipeline) is left
 * blocking as it was. A regular file is written through its own descriptor by Bun's sink, so that its offset and
 * O_APPEND hold (opening it again would write at its start). A socket (journald's stdout), which cannot be opened
 * through /proc (ENXIO), and any descriptor of an agent with none to spare (EMFILE: a parent leaked hundreds into
 * it) are written through the shared description as it is, by node:fs's asynchronous write, which Bun runs on a
 * thread of its pool: the description stays blocking (Bun's sink would set O_NONBLOCK on it and leave it so, for
 * whatever the parent runs next), and a reader that stopped reading holds that thread, not the deadline.
 */
import { settlesWithin } from '../checks/deadline.js';
import type { Told } from './invocation.js';

/** The part of Bun's API used here (no Bun types are installed: the library and supervisor run on Node). */
interface BunRuntime {
  file(path: string | number): BunFile;
  write(destination: BunFile, text: string): Promise<number>;
}
interface BunFile {
  readonly size: number;
  writer(): BunSink;
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
  // Both at once (a full stdout must not hold stderr back); neither rejects. Not Promise.all: a builtin compiled at its first run.
  const stdout = say(runtime, 1, told.stdout);
  const stderr = say(runtime, 2, told.stderr);
  await settlesWithin(stdout.then(() => stderr), deadlineMs);
}

/** Settles once `text` is written or cannot be (EPIPE, EBADF: no one left to tell; the exit code still says it). */
async function say(runtime: BunRuntime, fd: 1 | 2, text: string | undefined): Promise<void> {
  if (!text) return;
  // A regular file; a pipe, a terminal or /dev/null have no size (Bun says Infinity).
  const regularFile = Number.isFinite(runtime.file(fd).size);
  const written = regularFile ? await writtenThroughSink(runtime, fd, text) : await writtenThroughOwnDescription(runtime, fd, text);
  if (!written) await writtenOffThread(fd, text);
}

/**
 * Writes `text` through Bun's sink on a duplicate of the descriptor; settles once it is written or cannot be.
 * False, with nothing written, when there is no descriptor to spare for the duplicate (EMFILE).
 */
async function writtenThroughSink(runtime: BunRuntime, fd: 1 | 2, text: string): Promise<boolean> {
  let sink: BunSink;
  try {
    sink = runtime.file(fd).writer();
  } catch {
    return false;
  }
  try {
    sink.write(text);
    await sink.flush();
    // Closes the duplicate; the shared description is left to exit.
    await sink.end();
  } catch {
    // Nothing to do: the reader is gone.
  }
  return true;
}

/**
 * Writes `text` through a description of our own, opened again through /proc; settles once it is written or cannot
 * be (EPIPE). False, with nothing written, when /proc cannot open the descriptor again (ENXIO: a socket; EMFILE).
 */
async function writtenThroughOwnDescription(runtime: BunRuntime, fd: 1 | 2, text: string): Promise<boolean> {
  try {
    await runtime.write(runtime.file(`/proc/self/fd/${fd}`), text);
    return true;
  } catch (err) {
    return (err as { syscall?: unknown }).syscall !== 'open';
  }
}

/** Writes `text` through the shared description, off the main thread, until it is all written or cannot be. */
async function writtenOffThread(fd: 1 | 2, text: string): Promise<void> {
  const { write } = await import('node:fs');
  let left = new TextEncoder().encode(text);
  while (left.length > 0) {
    // A description some other program made non-blocking says EAGAIN when full: then what is left is lost, as when
    // the deadline passes.
    const written = await new Promise<number>((resolve) => write(fd, left, (err, count) => resolve(err ? 0 : count)));
    if (written === 0) return;
    left = left.subarray(written);
  }
}
