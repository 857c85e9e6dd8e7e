/**
 * last-words.ts's contract for the single executable built with Bun (scripts/lib/bun-compile.mjs swaps this file in
 * for last-words.ts): written through Bun's own file API. Bun builds process.stdout and process.stderr out of its
 * node:stream layer, and touching one costs a start about 450 page faults and 9 ms of CPU (`npm run bench:agent`'s
 * gRPC row prints `status: SERVING`; Bun.write costs it about 15 faults, a file sink about 30).
 *
 * A pipe or a terminal is written through a description of its own: Bun.write opens /proc/self/fd/N again (with
 * O_NONBLOCK, without O_TRUNC) and waits on the event loop while a full pipe drains, so the deadline fires on a full
 * pipe, and the description the agent shares with its parent (a shell, the next command of a pipeline) is left
 * blocking as it was. A regular file is written through its own descriptor, so that its offset and O_APPEND hold
 * (opening it again would write at its start). A socket (journald's stdout), which cannot be opened through /proc
 * (ENXIO), gets Bun's sink on a duplicate of the descriptor, which sets O_NONBLOCK on the shared description, as
 * both runtimes' stdout streams do. An agent with no descriptor to spare (EMFILE: a parent leaked hundreds into
 * it) has neither, and pays for process.stdout or process.stderr, which need none.
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
  if (!text || (await writtenThroughOwnDescription(runtime, fd, text))) return;
  const sink = sinkOn(() => runtime.file(fd).writer());
  try {
    if (sink === undefined) return await processStreamWrite(fd, text);
    sink.write(text);
    await sink.flush();
    // Closes the duplicate; the shared description is left to exit.
    await sink.end();
  } catch {
    // Nothing to do: the reader is gone.
  }
}

/**
 * Writes `text` to a pipe, a terminal or /dev/null (no size: Bun says Infinity) through a description of our own;
 * settles once it is written or cannot be (EPIPE). False, with nothing written, for a regular file and for a
 * descriptor that /proc cannot open again (ENXIO: a socket; EMFILE).
 */
async function writtenThroughOwnDescription(runtime: BunRuntime, fd: 1 | 2, text: string): Promise<boolean> {
  if (Number.isFinite(runtime.file(fd).size)) return false; // a regular file
  try {
    await runtime.write(runtime.file(`/proc/self/fd/${fd}`), text);
    return true;
  } catch (err) {
    return (err as { syscall?: unknown }).syscall !== 'open';
  }
}

/** The sink, or undefined if it cannot be made (ENXIO: a socket; EMFILE): Bun opens or duplicates at once. */
function sinkOn(make: () => BunSink): BunSink | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

function processStreamWrite(fd: 1 | 2, text: string): Promise<void> {
  const stream = fd === 1 ? process.stdout : process.stderr;
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write(text, () => resolve());
  });
}
