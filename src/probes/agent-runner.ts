/**
 * Where an agent runs: the seam between the probes (which read heartbeats, the report and the exit code, and
 * keep the watchdog) and the drivers (which know the instance's context). Locally (agent-process.ts) the agent
 * is a child process, optionally entered into the instance's network namespace; the docker driver runs it in a
 * sidecar container sharing the app container's network. A runner only moves bytes and ends things; it judges
 * nothing.
 */
import type { Exit } from '../shared/exit.js';
import type { AppUser } from '../shared/users.js';

/** What an agent says, told as it happens. After exited() or failed(), nothing more. */
export interface AgentSink {
  /** One line of the heartbeat stream (not always a heartbeat: a stream shared with stderr carries both). */
  line(text: string): void;
  /** The --json report, in pieces as they arrive. */
  stdout(text: string): void;
  stderr(text: string): void;
  /** The agent ended; its output is complete. */
  exited(exit: Exit): void;
  /** The agent could not be started. */
  failed(reason: string): void;
}

export interface AgentRun {
  /** The agent's local process, for the state directory; null when the engine holds it (a container). */
  readonly pid: number | null;
  /** How an operator finds it: `pid 123`, `container 4f2a…`. */
  describe(): string;
  /** Ends the agent at once (SIGKILL, forced container removal); idempotent. */
  kill(): void;
  /** Resolves once nothing of the agent is left (process reaped, container removed). */
  readonly closed: Promise<void>;
}

export interface AgentRunner {
  /**
   * True when the agent runs in the instance's own network context: checks go to it with container ports and no
   * host, and it finds the address the Diego way (first non-loopback IPv4). False: checks are aimed from outside.
   */
  readonly inContext: boolean;
  /** Extra silence allowed before the first word from the agent: its own start (a process, a container). */
  readonly startupAllowanceMs: number;
  /**
   * `args`: the agent's command line (src/protocol/argv.ts) without the heartbeat descriptor, which is the runner's.
   * `user`: the app's, which a local agent runs as (a check needs no privilege the app does not have).
   */
  start(args: readonly string[], sink: AgentSink, user?: AppUser): AgentRun;
}
