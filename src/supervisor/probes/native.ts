/**
 * Native probing: the check engine runs in the supervisor for every instance, as Diego's NetCheckAction
 * proposes. A probe costs one timer and the sockets of its checks in flight, never a process.
 */
import { runCheck } from '../../checks/run-check.js';
import type { CheckSpec } from '../../checks/types.js';
import { ScheduledProbe } from './scheduled.js';

export class NativeProbe extends ScheduledProbe {
  constructor() {
    super((checks: readonly CheckSpec[], signal: AbortSignal) => Promise.all(checks.map((check) => runCheck(check, signal))));
  }
}
