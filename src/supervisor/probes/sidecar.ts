/**
 * Sidecar probing: one healthcheck agent process per instance, readiness then liveness, as Diego's declarative
 * health check runs it. The verdict is the agent's exit code, the reason its --json report.
 * The agent is not trusted blindly: it writes a heartbeat line per completed round to an inherited pipe (fd 3),
 * and an agent that stays silent past its deadline (stopped, stuck) is killed and counted as a failure —
 * no news is never good news.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { formatDuration } from '../../checks/duration.js';
import { formatTarget } from '../../checks/target.js';
import type { CheckSpec } from '../../checks/types.js';
import { describeExit } from '../drivers/driver.js';
import { signalGroup } from '../state-dir.js';
import { aimed, type LivenessPlan, type Probe, type ProbeEnd, type ProbeHandle, type ProbeObserver, type ProbeTarget, type ReadinessPlan } from './probe.js';

/** The first heartbeat also waits for the agent's own start (Node.js boot), which a loaded machine slows. */
const AGENT_STARTUP_MS = 2000;

export interface SidecarOptions {
  /** The healthcheck executable: a .js/.cjs file run with this Node.js, or a single executable. */
  readonly agentPath: string;
  /** Slack on top of interval + check timeout before a silent agent counts as lost. */
  readonly heartbeatGraceMs: number;
}

/** One line per completed round; `elapsedMs` counts from the agent's start. */
interface Heartbeat {
  readonly attempt: number;
  readonly passed: boolean;
  readonly elapsedMs: number;
}

export class SidecarProbe implements Probe {
  private readonly agents = new Set<Agent>();

  constructor(private readonly options: SidecarOptions) {}

  readiness(target: ProbeTarget, plan: ReadinessPlan, observer: ProbeObserver): ProbeHandle {
    const args = ['--mode=readiness', `--startup-timeout=${formatDuration(plan.startTimeoutMs)}`];
    return this.run(target, plan.checks, plan.intervalMs, args, observer, (exit) => exit.code === 0);
  }

  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle {
    const args = ['--mode=liveness', `--failure-threshold=${plan.failureThreshold}`];
    // A liveness agent only ever exits to report a failure.
    return this.run(target, plan.checks, plan.intervalMs, args, observer, () => false);
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents].map((agent) => agent.cancelAndWait()));
  }

  private run(
    target: ProbeTarget,
    checks: readonly CheckSpec[],
    intervalMs: number,
    modeArgs: readonly string[],
    observer: ProbeObserver,
    passed: (exit: { code: number | null }) => boolean,
  ): ProbeHandle {
    const aimedChecks = checks.map((check) => aimed(check, target));
    // The agent takes one --timeout for all its checks; the longest keeps every check's own budget.
    const timeoutMs = Math.max(...aimedChecks.map((check) => check.timeoutMs));
    const args = [
      ...modeArgs,
      ...aimedChecks.flatMap((check) => ['--check', formatTarget(check)]),
      `--timeout=${formatDuration(timeoutMs)}`,
      `--interval=${formatDuration(intervalMs)}`,
      '--json',
      '--heartbeat-fd=3',
    ];
    const deadlineMs = intervalMs + timeoutMs + this.options.heartbeatGraceMs;
    const agent = new Agent(this.options.agentPath, args, intervalMs, deadlineMs, observer, passed, () => this.agents.delete(agent));
    this.agents.add(agent);
    return agent;
  }
}

/** One agent process and its heartbeat deadline; cancel() kills both. */
class Agent implements ProbeHandle {
  readonly agentPid: number | null;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  private watchdog: NodeJS.Timeout | undefined;
  private stdout = '';
  private stderr = '';
  private done = false;
  /** Its pid may belong to someone else from now on. */
  private reaped = false;

  constructor(
    agentPath: string,
    args: readonly string[],
    private readonly intervalMs: number,
    private readonly deadlineMs: number,
    private readonly observer: ProbeObserver,
    private readonly passed: (exit: { code: number | null }) => boolean,
    forget: () => void,
  ) {
    const [command, argv] = /\.[cm]?js$/.test(agentPath) ? [process.execPath, [agentPath, ...args]] : [agentPath, [...args]];
    this.child = spawn(command, argv, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      // Its own group: a terminal's Ctrl-C reaches the supervisor, which then stops agents in order.
      detached: true,
      env: { PATH: process.env.PATH ?? '' },
    });
    this.agentPid = this.child.pid ?? null;
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    const beats = this.child.stdio[3];
    if (beats !== null && beats !== undefined) createInterface({ input: beats as NodeJS.ReadableStream }).on('line', (line) => this.beat(line));
    // The probe forgets the agent only once its process is gone, so that close() waits for agents cancelled earlier too.
    this.closed = new Promise((resolve) => {
      const gone = () => {
        forget();
        resolve();
      };
      this.child.on('close', (code, signal) => {
        this.reaped = true;
        gone();
        this.exited({ code, signal });
      });
      this.child.on('error', (error) => {
        if (this.agentPid === null) gone();
        this.finish({ kind: 'lost', reason: `cannot start health check agent ${agentPath}: ${error.message}` });
      });
    });
    this.arm(AGENT_STARTUP_MS);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.watchdog);
    // SIGKILL: the agent holds no state worth a goodbye, and SIGKILL also ends a stopped one.
    if (this.agentPid !== null && !this.reaped) signalGroup(this.agentPid, 'SIGKILL');
  }

  async cancelAndWait(): Promise<void> {
    this.cancel();
    await this.closed;
  }

  private beat(line: string): void {
    let heartbeat: Heartbeat;
    try {
      heartbeat = JSON.parse(line) as Heartbeat;
    } catch {
      return; // A garbled line is no heartbeat; the deadline decides.
    }
    if (this.done) return;
    this.arm();
    // Round n starts on tick n-1 (ticks from the start), so its duration is what the heartbeat's time exceeds that by.
    const latencyMs = Math.max(0, heartbeat.elapsedMs - (heartbeat.attempt - 1) * this.intervalMs);
    this.observer.round(heartbeat.passed === true, latencyMs);
  }

  private arm(allowanceMs = 0): void {
    clearTimeout(this.watchdog);
    const silenceMs = this.deadlineMs + allowanceMs;
    this.watchdog = setTimeout(() => {
      const pid = this.agentPid ?? '?';
      this.finish({ kind: 'lost', reason: `health check agent (pid ${pid}) sent no heartbeat for ${formatDuration(silenceMs)}: stopped or stuck, killed` });
    }, silenceMs);
  }

  private exited(exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.done) return;
    if (this.passed(exit)) return this.finish({ kind: 'passed' });
    this.finish({ kind: 'failed', reason: reportReason(this.stdout) ?? agentFailure(exit, this.stderr) });
  }

  private finish(end: ProbeEnd): void {
    if (this.done) return;
    this.cancel();
    this.observer.end(end);
  }
}

/** The failing checks' messages from the agent's --json report, or undefined if it wrote none. */
function reportReason(stdout: string): string | undefined {
  try {
    const report = JSON.parse(stdout) as { checks?: { passed: boolean; lastError?: { message: string } }[] };
    const messages = (report.checks ?? []).filter((check) => !check.passed && check.lastError !== undefined).map((check) => check.lastError?.message);
    return messages.length > 0 ? messages.join('; ') : undefined;
  } catch {
    return undefined;
  }
}

function agentFailure(exit: { code: number | null; signal: NodeJS.Signals | null }, stderr: string): string {
  const detail = stderr.trim().split('\n')[0];
  return `health check agent ${describeExit(exit)}${detail ? `: ${detail}` : ''}`;
}
