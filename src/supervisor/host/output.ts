/**
 * An instance's stdout and stderr, kept and bounded (README "The app's output"): size-capped files in the state
 * directory, rotated once (`<instance>.log` and `<instance>.log.1`, the newest instances' of each app kept), or
 * lines prefixed with the instance on the supervisor's stderr, or nothing. Whatever the choice, the last lines
 * of stderr are kept for the `crashed` reason.
 *
 * Nothing is queued in the supervisor: a chunk read from the app's pipe is written synchronously before the next
 * is read (files), or dropped when the supervisor's stderr is not keeping up, so an app writing faster than the
 * disk or the reader slows itself down on its own full pipe, and the supervisor's memory stays flat.
 */
import { closeSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { size } from '../../shared/config-fields.js';
import { makeDirectory } from '../../shared/make-directory.js';
import { settlesWithin } from '../../checks/deadline.js';

type OutputTarget = 'file' | 'stderr' | 'discard';

export interface OutputSpec {
  readonly to: OutputTarget;
  /** A file is rotated when it would exceed this; with one rotated file, an instance keeps at most twice it. */
  readonly maxBytes: number;
}

export const DEFAULT_OUTPUT: OutputSpec = { to: 'file', maxBytes: 10 * 1024 * 1024 };

// Where an app's stdout and stderr go (process and netns drivers).
export const outputSchema = z.strictObject({
  to: z.enum(['file', 'stderr', 'discard'], { error: 'expected "file", "stderr" or "discard"' }).default(DEFAULT_OUTPUT.to),
  maxSize: size(1024).default(DEFAULT_OUTPUT.maxBytes),
}, { error: 'expected an object' });

/** Instances of one app whose files are kept; older ones are removed when a new instance starts. */
const KEPT_INSTANCES = 5;
/** What is kept of stderr's end for the crash reason. */
const TAIL_BYTES = 4096;
const TAIL_LINES = 5;
const TAIL_LINE_CHARS = 300;
/** A line longer than this is cut (stderr mode), so that an app that never writes a newline is bounded too. */
const MAX_LINE_BYTES = 16 * 1024;
/** Past this much unwritten on the supervisor's stderr, an app's lines are dropped (and counted). */
const STDERR_BACKLOG_BYTES = 1024 * 1024;

/** One instance's output, from its spawn to its end; close() releases the file. */
export class InstanceOutput {
  private tail = Buffer.alloc(0);
  private readonly sink: Sink;
  private readonly stderrEnded: Promise<void>;

  constructor(
    instance: string,
    spec: OutputSpec,
    dir: string,
    app: string,
    stdout: Readable | null,
    stderr: Readable | null,
  ) {
    this.sink = spec.to === 'file' ? new FileSink(join(dir, app), instance, spec.maxBytes) : spec.to === 'stderr' ? new PrefixSink(instance) : new NullSink();
    stdout?.on('data', (chunk: Buffer) => this.sink.write(chunk, 'stdout'));
    stderr?.on('data', (chunk: Buffer) => {
      this.keepTail(chunk);
      this.sink.write(chunk, 'stderr');
    });
    this.stderrEnded = new Promise((resolve) => {
      if (stderr === null) return resolve();
      stderr.once('close', resolve);
      stderr.once('end', resolve);
    });
  }

  /**
   * The last lines of stderr, once what the app wrote before it exited has been read: its pipe's end, or `waitMs`
   * (a daemon it forked may hold the pipe open for ever).
   */
  async lastLines(waitMs: number): Promise<string[]> {
    await settlesWithin(this.stderrEnded, waitMs);
    return lastLines(this.tail);
  }

  close(): void {
    this.sink.close();
  }

  private keepTail(chunk: Buffer): void {
    const joined = Buffer.concat([this.tail, chunk.subarray(Math.max(0, chunk.length - TAIL_BYTES))]);
    this.tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
  }
}

/**
 * A line that says what went wrong: `Error: listen EADDRINUSE …`, `TypeError: …`, `java.io.IOException: …`,
 * `Exception in thread …`, Go's `panic: …`, `fatal error: …`. A runtime's report often ends in a dump of the
 * error's fields or a stack (Node's `{ code: 'EADDRINUSE', … }`) that fills the last lines on its own.
 */
const ERROR_LINE = /^(?:[\w.$]*(?:Error|Exception)\b|panic:|fatal(?: error)?:|error:)/i;

/**
 * The last non-empty lines of `bytes`, each cut to a length a log line can carry; when the first line of the
 * tail that says what went wrong is older than those, it leads them (so the reason stays within its bound).
 */
export function lastLines(bytes: Buffer): string[] {
  const lines = bytes.toString('utf8').split(/\r?\n/).map((line) => line.trimEnd()).filter((line) => line.length > 0);
  const last = lines.slice(-TAIL_LINES);
  const error = lines.findIndex((line) => ERROR_LINE.test(line.trimStart()));
  const kept = error >= 0 && error < lines.length - TAIL_LINES ? [lines[error] as string, ...last.slice(1)] : last;
  return kept.map((line) => (line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line));
}

interface Sink {
  write(chunk: Buffer, stream: 'stdout' | 'stderr'): void;
  close(): void;
}

class NullSink implements Sink {
  write(): void {}
  close(): void {}
}

/** `<dir>/<instance>.log`, both streams as written, rotated to `.log.1` at maxBytes. */
class FileSink implements Sink {
  private fd: number | undefined;
  private size = 0;
  private readonly file: string;

  constructor(
    dir: string,
    instance: string,
    private readonly maxBytes: number,
  ) {
    makeDirectory(dir);
    pruneOldInstances(dir);
    this.file = join(dir, `${instance}.log`);
    this.fd = openSync(this.file, 'w');
  }

  write(chunk: Buffer): void {
    if (this.fd === undefined) return;
    if (this.size > 0 && this.size + chunk.length > this.maxBytes) this.rotate();
    // A chunk larger than the whole cap keeps only its end.
    const kept = chunk.length > this.maxBytes ? chunk.subarray(chunk.length - this.maxBytes) : chunk;
    writeSync(this.fd, kept);
    this.size += kept.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private rotate(): void {
    closeSync(this.fd as number);
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'w');
    this.size = 0;
  }
}

/** Keeps the files of the newest instances of an app (by modification time); the one about to start is one of them. */
function pruneOldInstances(dir: string): void {
  const byInstance = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    const instance = name.replace(/\.log(\.1)?$/, '');
    try {
      byInstance.set(instance, Math.max(byInstance.get(instance) ?? 0, statSync(join(dir, name)).mtimeMs));
    } catch {
      // removed meanwhile
    }
  }
  const old = [...byInstance].sort((a, b) => b[1] - a[1]).slice(KEPT_INSTANCES - 1);
  for (const [instance] of old) for (const suffix of ['.log', '.log.1']) rmSync(join(dir, `${instance}${suffix}`), { force: true });
}

/** `[web-1] line` on the supervisor's stderr, whole lines only; dropped (and counted) while stderr lags. */
class PrefixSink implements Sink {
  private readonly partial: Record<'stdout' | 'stderr', Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private dropped = 0;

  constructor(private readonly instance: string) {}

  write(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    let rest = Buffer.concat([this.partial[stream], chunk]);
    for (let newline = rest.indexOf(10); newline >= 0 || rest.length > MAX_LINE_BYTES; newline = rest.indexOf(10)) {
      const end = newline >= 0 && newline < MAX_LINE_BYTES ? newline : MAX_LINE_BYTES;
      this.line(rest.subarray(0, end));
      rest = rest.subarray(end === newline ? end + 1 : end);
    }
    // A copy, so that the pipe's whole chunk is not kept alive by the few bytes of a partial line.
    this.partial[stream] = Buffer.from(rest);
  }

  close(): void {
    for (const stream of ['stdout', 'stderr'] as const) if (this.partial[stream].length > 0) this.line(this.partial[stream]);
  }

  private line(bytes: Buffer): void {
    if (process.stderr.writableLength > STDERR_BACKLOG_BYTES) {
      this.dropped++;
      return;
    }
    const dropped = this.dropped === 0 ? '' : `[${this.instance}] (${this.dropped} lines dropped: the supervisor's stderr was not keeping up)\n`;
    this.dropped = 0;
    process.stderr.write(`${dropped}[${this.instance}] ${bytes.toString('utf8')}\n`);
  }
}
