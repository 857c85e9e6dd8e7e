/**
 * A command's last words: what it has to say is written, then waited for until it is flushed, its reader is found
 * gone (EPIPE), or a deadline passes. A reader that stopped reading but keeps its end open (a full pipe) would
 * otherwise keep the process alive for ever, its exit code withheld; what that reader has not taken by the
 * deadline is lost, the exit code is not. The agent and lifeguard each choose their deadline.
 *
 * This is Node's implementation, through process.stdout and process.stderr (libuv writes a pipe without blocking,
 * and Node restores the descriptors' flags at exit). The single executable built with Bun has its own,
 * last-words-bun.ts, swapped in at build time: Bun's process streams cost a start hundreds of page faults.
 */
import { settlesWithin } from '../checks/deadline.js';
import type { Told } from './invocation.js';

export async function writeWithin(told: Told, deadlineMs: number): Promise<void> {
  const flushed = new Promise<void>((resolve) => {
    // A reader that went away leaves no one to tell; the exit code still says it all.
    process.stdout.on('error', () => resolve());
    process.stderr.on('error', () => {});
    if (told.stdout) process.stdout.write(told.stdout);
    if (told.stderr) process.stderr.write(told.stderr);
    process.stdout.write('', () => process.stderr.write('', () => resolve()));
  });
  await settlesWithin(flushed, deadlineMs);
}
