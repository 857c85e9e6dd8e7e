/**
 * `mkdir -p` for paths an operator gives (state directory, output directory). Node's own recursive mkdirSync
 * spins for ever where a parent exists and mkdir(2) still says ENOENT (`/proc/nope`: procfs makes nothing), and
 * on a read-only file system it reports ENOENT for the first parent it could not make. Here each missing
 * directory is made on its own, parents first, so the loop is bounded by the path's depth and the error is the
 * one mkdir(2) gave for the directory that could not be made.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Makes `path` and its missing parents, and returns those it made, parents first; throws mkdir(2)'s error (with
 * its code) for the first that fails.
 */
export function makeDirectory(path: string): string[] {
  const missing: string[] = [];
  for (let dir = resolve(path); !isDirectory(dir); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  const made: string[] = [];
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (error) {
      // Made meanwhile by someone else is as good as made here; a file in the way is not.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !isDirectory(dir)) throw error;
    }
  }
  return made;
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}
