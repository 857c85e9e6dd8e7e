/**
 * The field rules `lifeguard run`'s config and `lifeguard watch`'s settings share, as zod schemas that say what
 * was expected and what was written, and the words for a file that cannot be read.
 */
import { z } from 'zod';
import { parseDuration } from '../checks/duration.js';
import { MAX_DURATION_MS, type CheckDefaults } from '../checks/parse.js';
import { socketSetting } from './engine-socket.js';

export type Fail = (path: PropertyKey[], message: string) => void;

/** Diego's check definition leaves host, HTTP statuses and headers unsaid; these are the agent's own defaults. */
export const CHECK_DEFAULTS: CheckDefaults = {
  timeoutMs: 1000,
  http: { expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false },
};

export function duration(allowZero: boolean) {
  const expected = `expected a Go duration such as 500ms, 2s or 1m30s${allowZero ? '' : ', above 0'}`;
  return z.unknown().transform((value, ctx) => {
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || (ms === 0 && !allowZero) || ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `${expected}${got(value)}` });
      return z.NEVER;
    }
    return ms;
  });
}

export function count(min: number) {
  const error = `expected an integer of at least ${min}`;
  return z.int({ error }).min(min, { error });
}

export const nonEmptyString = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

/** The engine's socket, as a path or Docker's `unix:///path` (engine-socket.ts); parsed to the path. */
export const socketPathSchema = (example: string) =>
  nonEmptyString(`a unix socket path such as ${example}`).transform((value, ctx) => {
    const parsed = socketSetting(value);
    if ('path' in parsed) return parsed.path;
    ctx.addIssue({ code: 'custom', message: parsed.problem, input: value });
    return z.NEVER;
  });

/** The value as written, for custom issues (describeIssue quotes only the ones zod raises itself). */
export function got(value: unknown): string {
  return value === undefined ? '' : `, got ${JSON.stringify(value)}`;
}

const UNREADABLE: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of its path is not a directory',
};

/** Why a file (a config, a watch file) cannot be read, in words rather than an errno's name. */
export function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return UNREADABLE[code ?? ''] ?? code ?? String(error);
}

const MEMORY = /^(\d+)(K|M|G|Ki|Mi|Gi)?$/;
const MEMORY_UNIT: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A size in bytes: a number, or a string such as 64M or 1G (powers of 1024). */
export function size(min: number) {
  const expected = 'expected bytes, or a size such as 64M or 1G';
  return z.union([z.int(), z.string()], { error: expected }).transform((value, ctx) => {
    const match = MEMORY.exec(String(value));
    const bytes = match === null ? NaN : Number(match[1]) * (MEMORY_UNIT[match[2] ?? ''] as number);
    if (!(bytes >= min) || !Number.isSafeInteger(bytes)) {
      ctx.addIssue({ code: 'custom', message: `${expected}, of at least ${min} bytes${got(value)}` });
      return z.NEVER;
    }
    return bytes;
  });
}
