/**
 * Where a sidecar agent runs: the seam between the sidecar probe (which reads heartbeats, the report and the exit
 * code, and keeps the watchdog) and the driver (which knows the instance's context). The process driver runs the
 * agent as a local child; netns runs the same child inside the instance's namespace; docker runs it in a sidecar
 * container sharing the app container's network. A runner only moves bytes and ends things; it judges nothing.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { signalGroup } from '../state-dir.js';
import type { Exit } from './driver.js';

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
  /** Extra silence allowed before the first heartbeat: the agent's own start (Node.js boot, a container create). */
  readonly startupAllowanceMs: number;
  start(args: readonly string[], sink: AgentSink): AgentRun;
}

/** The first heartbeat also waits for the agent's own start (Node.js boot), which a loaded machine slows. */
const LOCAL_STARTUP_MS = 2000;

/**
 * The agent as a local child process with its heartbeat on an inherited pipe (fd 3), optionally behind a prefix
 * that puts it somewhere else without a new process (`ip netns exec <ns>` execs the agent in the namespace).
 */
export class LocalAgentRunner implements AgentRunner {
  readonly startupAllowanceMs = LOCAL_STARTUP_MS;

  /** @param agentPath a .js/.cjs file run with this Node.js, or a single executable */
  constructor(
    private readonly agentPath: string,
    readonly inContext = false,
    private readonly prefix: readonly string[] = [],
  ) {}

  start(args: readonly string[], sink: AgentSink): AgentRun {
    const agent = /\.[cm]?js$/.test(this.agentPath) ? [process.execPath, this.agentPath] : [this.agentPath];
    const [command = '', ...argv] = [...this.prefix, ...agent, ...args, '--heartbeat-fd=3'];
    const child = spawn(command, argv, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      // Its own group: a terminal's Ctrl-C reaches the supervisor, which then stops agents in order.
      detached: true,
      env: { PATH: process.env.PATH ?? '' },
    });
    const pid = child.pid ?? null;
    // Its pid may belong to someone else once reaped: never signalled after that.
    let reaped = false;
    child.stdout?.setEncoding('utf8').on('data', (text: string) => sink.stdout(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => sink.stderr(text));
    // A spawn refused for want of descriptors (EMFILE) leaves no stdio at all; its 'error' event reports it.
    const beats = child.stdio?.[3];
    if (beats !== null && beats !== undefined) createInterface({ input: beats as NodeJS.ReadableStream }).on('line', (line) => sink.line(line));
    const closed = new Promise<void>((resolve) => {
      child.on('close', (code, signal) => {
        reaped = true;
        resolve();
        sink.exited({ code, signal });
      });
      child.on('error', (error) => {
        if (pid === null) resolve();
        sink.failed(`cannot start health check agent ${this.agentPath}: ${error.message}`);
      });
    });
    return {
      pid,
      describe: () => `pid ${pid ?? '?'}`,
      // SIGKILL: the agent holds no state worth a goodbye, and SIGKILL also ends a stopped one.
      kill: () => {
        if (pid !== null && !reaped) signalGroup(pid, 'SIGKILL');
      },
      closed,
    };
  }
}
