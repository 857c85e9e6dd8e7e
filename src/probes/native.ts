/**
 * Native probing: the check engine runs in the supervisor for every instance, as Diego's NetCheckAction
 * proposes. A probe costs one timer and the sockets of its checks in flight, never a process; at most
 * MAX_IN_FLIGHT checks of all probes run at once, the rest wait their turn (see Limit).
 */
import { type Clock, coarseClock } from '../checks/clock.js';
import { checkRound } from '../engine/check-round.js';
import { Limit } from '../shared/limit.js';
import { LoopProbe } from './loop-probe.js';

/** Enough for a thousand instances' checks at a 500ms startup interval; far below a process's open-file limit. */
const MAX_IN_FLIGHT = 256;

/** Rounds due within this much of each other run together (see coarseClock); well under the 50 ms of lateness allowed. */
const QUANTUM_MS = 20;

export class NativeProbe extends LoopProbe {
  constructor(maxInFlight = MAX_IN_FLIGHT, clock: Clock = coarseClock(QUANTUM_MS)) {
    const limit = new Limit(maxInFlight);
    super((checks, scope, done) => checkRound(checks, scope, done, limit), clock);
  }
}
