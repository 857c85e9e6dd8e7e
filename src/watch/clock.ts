/**
 * The clock `lifeguard watch` runs on: the engine's Clock (now + one-shot timers, injected, so that the timing
 * rules — start grace, minimum unhealthy duration, backoff — are tested on a fake clock), on wall-clock time
 * rather than monotonic: the engine states when a container started as a wall-clock time, and the grace counts
 * from it.
 */
import { realClock, type Clock } from '../engine/clock.js';

export const wallClock: Clock = { ...realClock, now: () => Date.now() };
