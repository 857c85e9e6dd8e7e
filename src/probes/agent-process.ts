/**
 * The one way an agent process is run on this machine, for sidecar and oneshot probing alike: its own process
 * group (a terminal's Ctrl-C reaches the supervisor, which then stops agents in order; a kill reaches whatever
 * the agent is doing), no environment beyond PATH (an agent needs none of the supervisor's, and must not take a
 * proxy or NODE_OPTIONS from it), the app's user when it has one (as its app is started: spawn's uid and gid),
 * the heartbeat on an inherited pipe (fd 3), and SIGKILL to end it.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { signalGroup, signalLeaderlessGroup } from '../shared/signal.js';
import type { AppUser } from '../shared/users.js';
import type { AgentRun, AgentRunner, AgentSink } from './agent-runner.js';

/** The first word from a local agent may wait for its own start, which a loaded machine slows. */
const LOCAL_STARTUP_MS = 2000;
const HEARTBEAT_FD = 3;

/** How a local agent is run, beyond its executable. */
export interface LocalAgentOptions {
  /** The agent runs in the instance's own network context (see AgentRunner.inContext). Default false. */
  readonly inContext?: boolean;
  /** Puts the agent somewhere else without a new process (`ip netns exec <ns>` execs it in the namespace). */
  readonly prefix?: readonly string[];
  /** Off for a oneshot agent, which says all in its report: two pipes fewer per spawn, a thousand spawns a second. Default on. */
  readonly heartbeat?: boolean;
  /** How long it may stay silent at boot before its turn to boot passes on. Default 2s. */
  readonly startupAllowanceMs?: number;
}

export class LocalAgentRunner implements AgentRunner {
  readonly startupAllowanceMs: number;
  readonly inContext: boolean;
  private readonly prefix: readonly string[];
  private readonly heartbeat: boolean;

  /** @param agentPath a .js/.cjs file run with this Node.js, or a single executable */
  constructor(
    private readonly agentPath: string,
    options: LocalAgentOptions = {},
  ) {
    this.inContext = options.inContext ?? false;
    this.prefix = options.prefix ?? [];
    this.heartbeat = options.heartbeat ?? true;
    this.startupAllowanceMs = options.startupAllowanceMs ?? LOCAL_STARTUP_MS;
  }

  start(args: readonly string[], sink: AgentSink, user?: AppUser): AgentRun {
    const agent = /\.[cm]?js$/.test(this.agentPath) ? [process.execPath, this.agentPath] : [this.agentPath];
    const [command = '', ...argv] = [...this.prefix, ...agent, ...args, ...(this.heartbeat ? [`--heartbeat-fd=${HEARTBEAT_FD}`] : [])];
    const stdio: StdioOptions = this.heartbeat ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'ignore'];
    let pid: number | null = null;
    // Reaped ('exit'): its pid may be someone else's, and its group is signalled only while it is still ours.
    let reaped = false;
    // Its output closed too ('close'): nothing of it is left to signal.
    let over = false;
    const closed = new Promise<void>((resolve) => {
      let child: ChildProcess;
      try {
        const as = user === undefined ? {} : { uid: user.uid, gid: user.gid };
        child = spawn(command, argv, { stdio, detached: true, env: { PATH: process.env.PATH ?? '' }, ...as });
      } catch (error) {
        // Told later, never from inside the caller's own call.
        queueMicrotask(() => sink.failed(`cannot start health check agent ${this.agentPath}: ${(error as Error).message}`));
        return resolve();
      }
      pid = child.pid ?? null;
      child.stdout?.setEncoding('utf8').on('data', (text: string) => sink.stdout(text));
      child.stderr?.setEncoding('utf8').on('data', (text: string) => sink.stderr(text));
      // A spawn refused for want of descriptors (EMFILE) leaves no stdio at all; its 'error' event reports it.
      const beats = child.stdio?.[HEARTBEAT_FD];
      if (beats !== null && beats !== undefined) createInterface({ input: beats as NodeJS.ReadableStream }).on('line', (line) => sink.line(line));
      child.once('exit', () => {
        reaped = true;
      });
      child.on('close', (code, signal) => {
        over = true;
        resolve();
        sink.exited({ code, signal });
      });
      child.on('error', (error) => {
        // A process that never started (ENOENT, EMFILE) sends no 'close'.
        if (child.pid === undefined) resolve();
        sink.failed(`cannot start health check agent ${this.agentPath}: ${error.message}`);
      });
    });
    return {
      get pid() {
        return pid;
      },
      describe: () => `pid ${pid ?? '?'}`,
      // SIGKILL: the agent holds no state worth a goodbye, and SIGKILL also ends a stopped one.
      kill: () => {
        if (pid !== null && !over) (reaped ? signalLeaderlessGroup : signalGroup)(pid, 'SIGKILL');
      },
      closed,
    };
  }
}
