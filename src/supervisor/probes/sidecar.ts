/**
 * Sidecar probing: one healthcheck agent per instance, readiness then liveness, as Diego's declarative health
 * check runs it. The verdict is the agent's exit code, the reason its --json report.
 * The agent is not trusted blindly: it writes a heartbeat line per completed round to a stream the supervisor
 * reads, and an agent that stays silent past its deadline (stopped, stuck) is killed and counted as a failure —
 * no news is never good news. Where the agent runs (a local child, a network namespace, a sidecar container) is
 * the driver's AgentRunner; this file only judges what the agent says.
 */
import { readJsonChecks } from '../../agent/report.js';
import { formatDuration } from '../../checks/duration.js';
import { formatTarget } from '../../checks/target.js';
import type { CheckSpec } from '../../checks/types.js';
import { type AgentRun, type AgentRunner, LocalAgentRunner } from '../drivers/agent-runner.js';
import { describeExit, type Exit } from '../drivers/driver.js';
import { aimed, type LivenessPlan, type Probe, type ProbeEnd, type ProbeHandle, type ProbeObserver, type ProbeTarget, type ReadinessPlan } from './probe.js';

export interface SidecarOptions {
  /** The healthcheck executable for instances whose driver brings no runner of its own (the process driver). */
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
  private readonly localRunner: AgentRunner;

  constructor(private readonly options: SidecarOptions) {
    this.localRunner = new LocalAgentRunner(options.agentPath);
  }

  readiness(target: ProbeTarget, plan: ReadinessPlan, observer: ProbeObserver): ProbeHandle {
    const args = ['--mode=readiness', `--startup-timeout=${formatDuration(plan.startTimeoutMs)}`];
    // The readiness verdict is due at the start timeout anyway, so silence is tolerated until then: an agent that
    // boots slowly on a loaded machine (an evacuation storm: hundreds of agents start at once) is not taken for a
    // lost one and its instance does not time out early; a stuck one is still found when the start timeout passes.
    const silenceMs = plan.startTimeoutMs > 0 ? plan.startTimeoutMs + this.options.heartbeatGraceMs : undefined;
    return this.run(target, plan.checks, plan.intervalMs, args, observer, (exit) => exit.code === 0, silenceMs);
  }

  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle {
    const args = ['--mode=liveness', `--failure-threshold=${plan.failureThreshold}`, `--initial-delay=${formatDuration(plan.firstRoundMs ?? 0)}`];
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
    passed: (exit: Exit) => boolean,
    silenceMs?: number,
  ): ProbeHandle {
    const runner = target.agent ?? this.localRunner;
    // An agent in the instance's context is given container ports and no host: it finds the address itself.
    const sent = runner.inContext ? checks : checks.map((check) => aimed(check, target));
    // The agent takes one --timeout for all its checks; the longest keeps every check's own budget.
    const timeoutMs = Math.max(...sent.map((check) => check.timeoutMs));
    const args = [
      ...modeArgs,
      ...sent.flatMap((check) => ['--check', formatTarget(check)]),
      `--timeout=${formatDuration(timeoutMs)}`,
      `--interval=${formatDuration(intervalMs)}`,
      '--json',
    ];
    const deadlineMs = silenceMs ?? intervalMs + timeoutMs + this.options.heartbeatGraceMs;
    const agent = new Agent(intervalMs, deadlineMs, observer, passed);
    agent.start(runner, args, () => this.agents.delete(agent));
    this.agents.add(agent);
    return agent;
  }
}

/** One agent and its heartbeat deadline; cancel() ends both. */
class Agent implements ProbeHandle {
  private run: AgentRun | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stdout = '';
  private stderr = '';
  private done = false;

  constructor(
    private readonly intervalMs: number,
    private readonly deadlineMs: number,
    private readonly observer: ProbeObserver,
    private readonly passed: (exit: Exit) => boolean,
  ) {}

  get agentPid(): number | null {
    return this.run?.pid ?? null;
  }

  start(runner: AgentRunner, args: readonly string[], forget: () => void): void {
    this.run = runner.start(args, {
      line: (line) => this.beat(line),
      stdout: (text) => (this.stdout += text),
      stderr: (text) => (this.stderr += text),
      exited: (exit) => this.exited(exit),
      failed: (reason) => this.finish({ kind: 'lost', reason }),
    });
    // The probe forgets the agent only once it is gone, so that close() waits for agents cancelled earlier too.
    void this.run.closed.then(forget);
    this.arm(runner.startupAllowanceMs);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.watchdog);
    this.run?.kill();
  }

  async cancelAndWait(): Promise<void> {
    this.cancel();
    await this.run?.closed;
  }

  private beat(line: string): void {
    let heartbeat: Heartbeat | undefined;
    try {
      heartbeat = JSON.parse(line) as Heartbeat;
    } catch {
      heartbeat = undefined;
    }
    if (typeof heartbeat?.attempt !== 'number') {
      // Not a heartbeat: the agent's own words on a stream it shares with stderr. The deadline decides.
      this.stderr += `${line}\n`;
      return;
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
      const who = this.run?.describe() ?? '?';
      this.finish({ kind: 'lost', reason: `health check agent (${who}) sent no heartbeat for ${formatDuration(silenceMs)}: stopped or stuck, killed` });
    }, silenceMs);
  }

  private exited(exit: Exit): void {
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
  const messages = (readJsonChecks(stdout) ?? []).flatMap((check) => (!check.passed && check.lastError !== null ? [check.lastError.message] : []));
  return messages.length > 0 ? messages.join('; ') : undefined;
}

function agentFailure(exit: Exit, stderr: string): string {
  const detail = stderr.trim().split('\n')[0];
  return `health check agent ${describeExit(exit)}${detail ? `: ${detail}` : ''}`;
}
