/** The library's public face: `import { Supervisor } from 'lifeguard'`. */
export { Supervisor } from './supervisor/supervisor.js';
export { TransitionLog, type LogFormat } from './supervisor/transition-log.js';
export { loadConfig, parseConfig, type LifeguardConfig, type HttpEndpointConfig } from './supervisor/config.js';
export { SupervisorMetrics } from './supervisor/metrics.js';
export { startHttpEndpoint, type HttpEndpoint, type HttpEndpointOptions } from './supervisor/http-server.js';
export { StatusPage } from './supervisor/status-page.js';
export type * from './supervisor/types.js';
export type { SupervisorOptions, DockerSettings, SupervisorTuning } from './supervisor/options.js';
export type { DestroyOutcome, Driver, LaunchRequest, LaunchResult, RunningInstance } from './supervisor/drivers/driver.js';
export type { Exit } from './supervisor/exit.js';
export type { Endpoint } from './supervisor/probes/probe.js';
export type { Clock } from './engine/clock.js';
export { runCheck } from './checks/run-check.js';
export { runAgent, type AgentContext } from './agent/run-agent.js';
export type { AgentMode, AgentOptions, AgentOutcome, CheckReport, LoopEnd } from './engine/types.js';
export type { CheckResult, CheckSpec, HttpCheckSpec, StatusRange, TcpCheckSpec } from './checks/types.js';
export { LifeguardFailure, type LifeguardError } from './checks/errors.js';
