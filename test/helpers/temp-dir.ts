// A directory for whatever outlives a test's body: a supervisor's state directory, an app's marker files.
// tap removes a t.testdir() before it runs the test's teardowns, so a supervisor still stopping would be writing
// records into a directory being deleted (ENOTEMPTY) and its leftovers check would read records already gone.
// This one is removed by a teardown of its own, and teardowns run last-registered-first: create it before
// starting anything, and it goes after everything started has stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Teardown } from '../checks/fixtures.js';

export function tempDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
