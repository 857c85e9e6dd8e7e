/**
 * A sidecar watch that does not wait for its agent: while a local agent waits its turn at the start gate (a storm
 * of instances, a few agents booting at a time), the supervisor checks readiness itself with its own probe engine,
 * at native speed, and hands the watch over to the agent when the agent's turn comes:
 * - readiness passed meanwhile: the instance is ready at once, and the agent starts in liveness mode;
 * - not yet: the supervisor's loop stops and the agent starts in lifecycle mode with the readiness time left;
 * - readiness timed out meanwhile: the watch ends there, and no agent is ever started.
 * With a free gate the turn comes at once: the supervisor checks nothing and the agent does it all, as it would
 * without a hand-off. The readiness deadline counts from the watch's start, whichever part was checking.
 */
import type { Limit } from '../shared/limit.js';
import type { LoopProbe } from './loop-probe.js';
import type { LifecyclePlan, ProbeEnd, ProbeHandle, ProbeObserver, ProbeTarget } from './probe.js';

/** What is left for the agent when its turn comes. */
type AgentPart = { readonly mode: 'lifecycle'; readonly startupTimeoutMs: number } | { readonly mode: 'liveness' };

/** An agent made but not yet started: boot() starts it and resolves when its turn to boot is over. */
export interface BootingAgent extends ProbeHandle {
  boot(): Promise<void>;
}

export interface HandoffParts {
  readonly gate: Limit;
  readonly native: LoopProbe;
  readonly target: ProbeTarget;
  readonly plan: LifecyclePlan;
  readonly observer: ProbeObserver;
  /** Makes the agent for the rest of the watch; it reports to the same observer. */
  readonly agent: (part: AgentPart) => BootingAgent;
  /** Called once the supervisor holds nothing of this watch but the agent (or nothing at all). */
  readonly forget: () => void;
}

/**
 * `new`: not yet queued; `checking`: queued, the supervisor's readiness loop running; `ready`: queued, readiness
 * passed; `agent`: the agent owns the watch; `over`: ended or cancelled, nothing left to start.
 */
type State =
  | { readonly name: 'new' }
  | { readonly name: 'checking'; readonly loop: ProbeHandle }
  | { readonly name: 'ready' }
  | { readonly name: 'agent'; readonly agent: BootingAgent }
  | { readonly name: 'over' };

export class Handoff implements ProbeHandle {
  private state: State = { name: 'new' };
  private readonly started: number;

  constructor(private readonly parts: HandoffParts) {
    this.started = parts.native.clock.now();
  }

  get agentPid(): number | null {
    return this.state.name === 'agent' ? this.state.agent.agentPid : null;
  }

  /** Queues the agent's turn; when the gate is full (the turn did not start at once), checks readiness meanwhile. */
  start(): void {
    const { gate, native, target, plan, observer } = this.parts;
    // A free gate starts the turn within run(): the agent is then started before any check of the supervisor's.
    void gate.run(() => this.turn());
    if (this.state.name !== 'new') return;
    const loop = native.readiness(target, plan.readiness, {
      round: (phase, passed, latencyMs, lateMs) => observer.round(phase, passed, latencyMs, lateMs),
      ready: () => this.nativeReady(),
      end: (end) => this.nativeEnded(end),
    });
    this.state = { name: 'checking', loop };
  }

  cancel(): void {
    const was = this.state;
    this.state = { name: 'over' };
    if (was.name === 'checking') was.loop.cancel();
    if (was.name === 'agent') was.agent.cancel();
    this.parts.forget();
  }

  /** The agent's turn to boot: it takes over from wherever the supervisor's loop got to. */
  private turn(): Promise<void> {
    const was = this.state;
    if (was.name === 'over' || was.name === 'agent') return Promise.resolve();
    if (was.name === 'checking') was.loop.cancel();
    const agent = this.parts.agent(was.name === 'ready' ? { mode: 'liveness' } : { mode: 'lifecycle', startupTimeoutMs: this.readinessLeft() });
    this.state = { name: 'agent', agent };
    this.parts.forget();
    const booting = agent.boot();
    // An agent that waited its turn started after the watch did: its process is news to whoever records them.
    if (was.name !== 'new' && agent.agentPid !== null) this.parts.observer.agentStarted?.();
    return booting;
  }

  /** 0 (never give up) stays 0; otherwise what the supervisor's loop left, never nothing (0 would mean for ever). */
  private readinessLeft(): number {
    const { startupTimeoutMs } = this.parts.plan.readiness;
    if (startupTimeoutMs === 0) return 0;
    return Math.max(1, startupTimeoutMs - (this.parts.native.clock.now() - this.started));
  }

  private nativeReady(): void {
    if (this.state.name !== 'checking') return;
    this.state = { name: 'ready' };
    this.parts.observer.ready();
  }

  private nativeEnded(end: ProbeEnd): void {
    if (this.state.name !== 'checking') return;
    this.state = { name: 'over' };
    this.parts.forget();
    this.parts.observer.end(end);
  }
}
