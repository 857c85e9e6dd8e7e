/**
 * Sidecar probing: one healthcheck agent per instance life, in lifecycle mode (readiness, then liveness in the
 * same process), as Diego's declarative health check runs it — one agent start per instance. The agent keeps the
 * loop; the supervisor reads its heartbeat (src/protocol/heartbeat.ts): each round, and the moment readiness
 * passed. Its exit is a failure, the reason its --json report.
 * The agent is not trusted blindly: an agent that stays silent past its deadline (stopped, stuck) is killed and
 * counted as a failure — no news is never good news. Where the agent runs (a local child, a network namespace,
 * a sidecar container) is the driver's AgentRunner; this file only judges what the agent says. While a local
 * agent waits its turn to boot, the supervisor checks readiness meanwhile (handoff.ts).
 */
import { type Clock, realClock } from '../checks/clock.js';
import { Deadline } from '../checks/deadline.js';
import { formatDuration } from '../checks/duration.js';
import type { CheckSpec } from '../checks/types.js';
import { type AgentRequest, agentArgv } from '../protocol/argv.js';
import { readHeartbeat } from '../protocol/heartbeat.js';
import { readJsonReport } from '../protocol/report.js';
import { describeExit, type Exit } from '../shared/exit.js';
import type { AppUser } from '../shared/users.js';
import { LocalAgentRunner } from './agent-process.js';
import type { AgentRun, AgentRunner } from './agent-runner.js';
import { type BootingAgent, Handoff } from './handoff.js';
import type { Limit } from '../shared/limit.js';
import type { LoopProbe } from './loop-probe.js';
import { aimed, type LifecyclePlan, type LivenessPlan, loopEnd, type Phase, type Probe, type ProbeEnd, type ProbeHandle, type ProbeObserver, type ProbeTarget } from './probe.js';

export interface SidecarOptions {
  /** The healthcheck executable for instances whose driver brings no runner of its own (the process driver). */
  readonly agentPath: string;
  /** Slack on top of interval + check timeout before a silent agent counts as lost. */
  readonly heartbeatGraceMs: number;
  /** Agents booting at once, host-wide; the others wait their turn (see Limit). */
  readonly startGate: Limit;
  /** How long a local agent that has not spoken holds its turn to boot. Default: LocalAgentRunner's. */
  readonly localStartupAllowanceMs?: number;
  /**
   * The supervisor's own probe engine, which checks readiness while a local agent waits its turn (handoff.ts);
   * absent: agents do all the checking, however long they wait.
   */
  readonly handoff?: LoopProbe;
  /** The agents' heartbeat deadlines and start-up allowances count on it. Default: the real clock. */
  readonly clock?: Clock;
}

export class SidecarProbe implements Probe {
  private readonly agents = new Set<Agent>();
  private readonly handoffs = new Set<Handoff>();
  private readonly localRunner: AgentRunner;

  constructor(private readonly options: SidecarOptions) {
    this.localRunner = new LocalAgentRunner(options.agentPath, options.localStartupAllowanceMs === undefined ? {} : { startupAllowanceMs: options.localStartupAllowanceMs });
  }

  lifecycle(target: ProbeTarget, plan: LifecyclePlan, observer: ProbeObserver): ProbeHandle {
    const runner = this.runner(target);
    const { handoff, startGate } = this.options;
    // An agent in the instance's own context (a network namespace, a container) may check addresses the supervisor
    // cannot reach, or reach differently: there the agent alone can say the app is ready.
    if (handoff === undefined || runner.inContext) return this.gated(this.lifecycleAgent(runner, target, plan, plan.readiness.startupTimeoutMs, observer), observer);
    const watch: Handoff = new Handoff({
      gate: startGate,
      native: handoff,
      target,
      plan,
      observer,
      agent: (rest) => (rest.mode === 'lifecycle' ? this.lifecycleAgent(runner, target, plan, rest.startupTimeoutMs, observer) : this.livenessAgent(runner, target, plan.liveness, observer)),
      forget: () => this.handoffs.delete(watch),
    });
    this.handoffs.add(watch);
    watch.start();
    return watch;
  }

  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle {
    return this.gated(this.livenessAgent(this.runner(target), target, plan, observer), observer);
  }

  async close(): Promise<void> {
    for (const watch of this.handoffs) watch.cancel();
    await Promise.all([...this.agents].map((agent) => agent.cancelAndWait()));
  }

  private runner(target: ProbeTarget): AgentRunner {
    return target.agent ?? this.localRunner;
  }

  /** An agent in the instance's context is given container ports and no host: it finds the address itself. */
  private aim(runner: AgentRunner, checks: readonly CheckSpec[], target: ProbeTarget): readonly CheckSpec[] {
    return runner.inContext ? checks : checks.map((check) => aimed(check, target));
  }

  /** Readiness, then liveness, in one agent; `startupTimeoutMs`: the readiness time left (all of it, unless handed over). */
  private lifecycleAgent(runner: AgentRunner, target: ProbeTarget, plan: LifecyclePlan, startupTimeoutMs: number, observer: ProbeObserver): Agent {
    const { readiness, liveness } = plan;
    const request: AgentRequest = {
      mode: 'lifecycle',
      checks: this.aim(runner, liveness.checks, target),
      readinessChecks: this.aim(runner, readiness.checks, target),
      intervalMs: liveness.intervalMs,
      startupIntervalMs: readiness.intervalMs,
      startupTimeoutMs,
      failureThreshold: liveness.failureThreshold,
      ...(readiness.successThreshold === undefined ? {} : { successThreshold: readiness.successThreshold }),
    };
    // The readiness verdict is due at the start timeout anyway, so silence is tolerated until then: an agent that
    // boots slowly on a loaded machine (an evacuation storm: hundreds of agents start at once) is not taken for a
    // lost one and its instance does not time out early; a stuck one is still found when the start timeout passes.
    const startingMs = startupTimeoutMs > 0 ? startupTimeoutMs + this.options.heartbeatGraceMs : undefined;
    return this.agent(runner, target, request, observer, 'readiness', startingMs);
  }

  private livenessAgent(runner: AgentRunner, target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): Agent {
    const request: AgentRequest = { mode: 'liveness', checks: this.aim(runner, plan.checks, target), intervalMs: plan.intervalMs, failureThreshold: plan.failureThreshold };
    return this.agent(runner, target, request, observer, 'liveness', undefined);
  }

  private agent(runner: AgentRunner, target: ProbeTarget, request: AgentRequest, observer: ProbeObserver, phase: Phase, startingMs: number | undefined): Agent {
    const timeoutMs = Math.max(...request.checks.map((check) => check.timeoutMs), ...(request.readinessChecks ?? []).map((check) => check.timeoutMs));
    const intervalMs = request.intervalMs ?? 0;
    const livingMs = intervalMs + timeoutMs + this.options.heartbeatGraceMs;
    const silences = { starting: startingMs ?? (request.startupIntervalMs ?? intervalMs) + timeoutMs + this.options.heartbeatGraceMs, living: livingMs };
    const agent: Agent = new Agent(runner, agentArgv(request), target.user, phase, silences, this.options.clock ?? realClock, observer, () => this.agents.delete(agent));
    this.agents.add(agent);
    return agent;
  }

  /**
   * An agent waits for its turn to boot before it is started, so that a storm of instances does not boot a
   * thousand agents at once on a few cores; its deadlines count from its own start, never from the wait.
   */
  private gated(agent: Agent, observer: ProbeObserver): Agent {
    let waited = false;
    void this.options.startGate.run(() => {
      const booting = agent.boot();
      if (waited && agent.agentPid !== null) observer.agentStarted?.();
      return booting;
    });
    // A free gate started the agent within run(); otherwise it is still waiting.
    waited = true;
    return agent;
  }
}

/** How long the agent may stay silent, by phase. */
interface Silences {
  readonly starting: number;
  readonly living: number;
}

/** One agent and its heartbeat deadline; cancel() ends both. */
class Agent implements BootingAgent {
  private run: AgentRun | undefined;
  /** Silence past it: the agent is lost. Fed by every heartbeat. */
  private watchdog: Deadline | undefined;
  private silenceMs = 0;
  private stdout = '';
  private stderr = '';
  private done = false;
  private booted: (() => void) | undefined;
  /** Its turn to boot ends at its first word, its end, or this. */
  private bootAllowance: Deadline | undefined;

  constructor(
    private readonly runner: AgentRunner,
    private readonly args: readonly string[],
    /** The app's user, which the agent runs as; undefined: lifeguard's own. */
    private readonly user: AppUser | undefined,
    private phase: Phase,
    private readonly silences: Silences,
    private readonly clock: Clock,
    private readonly observer: ProbeObserver,
    /** Called once the agent is gone, or at once if it is never started. */
    private readonly forget: () => void,
  ) {}

  get agentPid(): number | null {
    return this.run?.pid ?? null;
  }

  /**
   * Starts the agent; resolves once it has booted (its first line), ended, or had its start-up allowance, which is
   * when its turn to boot is over. An agent cancelled while it waited for its turn is never started.
   */
  boot(): Promise<void> {
    const { runner, forget } = this;
    if (this.done) {
      forget();
      return Promise.resolve();
    }
    return new Promise((booted) => {
      this.booted = booted;
      this.run = runner.start(this.args, {
        line: (line) => this.heard(line),
        stdout: (text) => (this.stdout += text),
        stderr: (text) => (this.stderr += text),
        exited: (exit) => this.exited(exit),
        failed: (reason) => this.finish({ phase: this.phase, cause: 'agent-lost', reason }),
      }, this.user);
      // The probe forgets the agent only once it is gone, so that close() waits for agents cancelled earlier too.
      void this.run.closed.then(() => {
        this.upAndRunning();
        forget();
      });
      this.bootAllowance = new Deadline(runner.startupAllowanceMs, () => this.upAndRunning(), { clock: this.clock });
      this.arm(runner.startupAllowanceMs);
    });
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.watchdog?.finish();
    this.upAndRunning();
    this.run?.kill();
  }

  /** Its turn to boot is over. */
  private upAndRunning(): void {
    this.bootAllowance?.finish();
    this.booted?.();
    this.booted = undefined;
  }

  async cancelAndWait(): Promise<void> {
    this.cancel();
    await this.run?.closed;
  }

  private heard(line: string): void {
    const beat = readHeartbeat(line);
    if (beat === undefined) {
      // Not a heartbeat: the agent's own words on a stream it shares with stderr. The deadline decides.
      this.stderr += `${line}\n`;
      return;
    }
    this.upAndRunning();
    if (this.done) return;
    // A ready beat moves the agent to liveness first, so that the deadline armed below is liveness's.
    const becameReady = beat.kind === 'ready' && this.phase === 'readiness';
    if (becameReady) this.phase = 'liveness';
    this.arm();
    if (beat.kind === 'round') this.observer.round(this.phase, beat.passed, beat.latencyMs);
    if (becameReady) this.observer.ready();
  }

  private arm(allowanceMs = 0): void {
    this.silenceMs = (this.phase === 'readiness' ? this.silences.starting : this.silences.living) + allowanceMs;
    if (this.watchdog !== undefined) return this.watchdog.restart(this.silenceMs);
    this.watchdog = new Deadline(this.silenceMs, () => {
      const who = this.run?.describe() ?? '?';
      this.finish({ phase: this.phase, cause: 'agent-lost', reason: `health check agent (${who}) sent no heartbeat for ${formatDuration(this.silenceMs)}: stopped or stuck, killed` });
    }, { clock: this.clock });
  }

  /** A lifecycle or liveness agent only ever exits to report a failure; its report says which checks failed. */
  private exited(exit: Exit): void {
    if (this.done) return;
    const report = readJsonReport(this.stdout);
    if (report !== undefined && !report.passed && report.checks.some((check) => !check.passed)) return this.finish(loopEnd(this.phase, report.checks));
    const detail = this.stderr.trim().split('\n')[0];
    this.finish({ phase: this.phase, cause: 'agent-lost', reason: `health check agent ${describeExit(exit)}${detail ? `: ${detail}` : ''}` });
  }

  private finish(end: ProbeEnd): void {
    if (this.done) return;
    this.cancel();
    this.observer.end(end);
  }
}
