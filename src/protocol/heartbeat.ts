/**
 * The heartbeat: one JSON line per event on a stream the supervisor reads, so that it can tell a stuck or
 * stopped agent from a quiet healthy one, see each round's result for its metrics, and learn the moment a
 * lifecycle agent's readiness passed. Written by the agent and read by the supervisor through this module only.
 *
 *   {"booted":true}                                                 the agent has started and is about to check
 *   {"attempt":3,"passed":true,"elapsedMs":4012,"latencyMs":1.2}   a completed round
 *   {"ready":true,"elapsedMs":4013}                                 lifecycle: readiness passed, liveness begins
 */
import type { Round } from '../engine/types.js';

export type Heartbeat =
  | { readonly kind: 'booted' }
  | { readonly kind: 'round'; readonly attempt: number; readonly passed: boolean; readonly elapsedMs: number; readonly latencyMs: number }
  | { readonly kind: 'ready'; readonly elapsedMs: number };

export function roundBeat(round: Round): string {
  return `{"attempt":${round.attempt},"passed":${round.passed},"elapsedMs":${Math.round(round.elapsedMs)},"latencyMs":${tenths(round.latencyMs)}}\n`;
}

export const BOOTED_BEAT = '{"booted":true}\n';

export function readyBeat(elapsedMs: number): string {
  return `{"ready":true,"elapsedMs":${Math.round(elapsedMs)}}\n`;
}

/** A heartbeat, or undefined for anything else (a stream shared with stderr carries the agent's own words too). */
export function readHeartbeat(line: string): Heartbeat | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const beat = value as Record<string, unknown>;
  if (beat['booted'] === true) return { kind: 'booted' };
  const elapsedMs = beat['elapsedMs'];
  if (!isTime(elapsedMs)) return undefined;
  if (beat['ready'] === true) return { kind: 'ready', elapsedMs };
  const { attempt, passed, latencyMs } = beat;
  if (!Number.isSafeInteger(attempt) || (attempt as number) < 1 || typeof passed !== 'boolean' || !isTime(latencyMs)) return undefined;
  return { kind: 'round', attempt: attempt as number, passed, elapsedMs, latencyMs };
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Loopback checks take well under a millisecond: kept to 0.1 ms. */
export function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}
