/** The library's public face: `import { Supervisor } from 'lifeguard'`. */
export { Supervisor } from './supervisor/supervisor.js';
export { TransitionLog, type LogFormat } from './supervisor/transition-log.js';
export type * from './supervisor/types.js';
export { runCheck } from './checks/run-check.js';
export type { CheckResult, CheckSpec, HttpCheckSpec, StatusRange, TcpCheckSpec } from './checks/types.js';
export type { LifeguardError } from './checks/errors.js';
