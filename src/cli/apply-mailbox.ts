/**
 * How `lifeguard apply CONFIG` reaches the supervisor running on a state directory: a request file in that
 * directory's `apply/`, then a SIGHUP to the pid its lock names; the supervisor answers with a file beside the
 * request. Whoever may write the state directory may already kill the supervisor's apps, so this asks no more
 * trust than the directory does: no socket to bind, no token to hand out, and it works without the HTTP server.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDirectory } from '../shared/make-directory.js';
import type { AppliedChange } from '../supervisor/supervisor.js';

export interface ApplyRequest {
  readonly id: string;
  /** The config file to apply, as an absolute path. */
  readonly config: string;
}

export type ApplyAnswer = { readonly ok: true; readonly changes: readonly AppliedChange[] } | { readonly ok: false; readonly error: string };

const REQUEST = '.request.json';
const ANSWER = '.answer.json';
const POLL_MS = 50;

/** Leaves a request for the supervisor; returns its id. Requests sort in the order they were made. */
export function postRequest(stateDir: string, config: string): string {
  const id = `${Date.now().toString(36).padStart(9, '0')}-${randomUUID()}`;
  writeWhole(join(mailbox(stateDir), `${id}${REQUEST}`), { id, config } satisfies ApplyRequest);
  return id;
}

/** The pending requests, oldest first, each removed as it is taken; unreadable ones are dropped. */
export function takeRequests(stateDir: string): ApplyRequest[] {
  let names: string[];
  try {
    names = readdirSync(mailbox(stateDir)).filter((name) => name.endsWith(REQUEST)).sort();
  } catch {
    return [];
  }
  const requests: ApplyRequest[] = [];
  for (const name of names) {
    const file = join(mailbox(stateDir), name);
    try {
      const request = JSON.parse(readFileSync(file, 'utf8')) as Partial<ApplyRequest>;
      if (typeof request.id === 'string' && typeof request.config === 'string') requests.push({ id: request.id, config: request.config });
    } catch {
      // Torn or foreign: a request is written whole before it is renamed into place, so this is no apply's.
    }
    rmSync(file, { force: true });
  }
  return requests;
}

export function answer(stateDir: string, id: string, given: ApplyAnswer): void {
  writeWhole(join(mailbox(stateDir), `${id}${ANSWER}`), given);
}

/** The answer to request `id`, read and removed, or undefined after `timeoutMs` (the request is then withdrawn). */
export async function awaitAnswer(stateDir: string, id: string, timeoutMs: number): Promise<ApplyAnswer | undefined> {
  const file = join(mailbox(stateDir), `${id}${ANSWER}`);
  for (let waited = 0; waited <= timeoutMs; waited += POLL_MS) {
    try {
      const given = JSON.parse(readFileSync(file, 'utf8')) as ApplyAnswer;
      rmSync(file, { force: true });
      return given;
    } catch {
      await sleep(POLL_MS);
    }
  }
  rmSync(join(mailbox(stateDir), `${id}${REQUEST}`), { force: true });
  return undefined;
}

function mailbox(stateDir: string): string {
  return join(stateDir, 'apply');
}

/** Written aside and renamed into place, so that a reader never sees half of it. */
function writeWhole(file: string, value: unknown): void {
  makeDirectory(join(file, '..'));
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value)}\n`);
  renameSync(`${file}.tmp`, file);
}
