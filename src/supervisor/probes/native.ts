/**
 * Native probing: the check engine runs in the supervisor for every instance, as Diego's NetCheckAction
 * proposes. A probe costs one timer and the sockets of its checks in flight, never a process; at most
 * MAX_IN_FLIGHT checks of all probes run at once, the rest wait their turn (see Limit).
 */
import { runCheck } from '../../checks/run-check.js';
import type { CheckSpec } from '../../checks/types.js';
import { Limit } from './limit.js';
import { ScheduledProbe } from './scheduled.js';

/** Enough for a thousand instances' checks at a 500ms startup interval; far below a process's open-file limit. */
const MAX_IN_FLIGHT = 256;

export class NativeProbe extends ScheduledProbe {
  constructor(maxInFlight = MAX_IN_FLIGHT) {
    const limit = new Limit(maxInFlight);
    super((checks: readonly CheckSpec[], signal: AbortSignal) => Promise.all(checks.map((check) => limit.run(() => runCheck(check, signal)))));
  }
}
