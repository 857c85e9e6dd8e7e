/**
 * Health from lifeguard's own checks, for containers whose image has no HEALTHCHECK (or no curl to write one
 * with): the probe engine the supervisor uses, natively (the check engine in this process, aimed at the
 * container's own address) or by a sidecar agent in the container's network namespace (see docker-sidecar.ts).
 *
 * A liveness probe with `retries` as its failure threshold says "unhealthy" when it ends; its passing rounds say
 * "healthy". After an end a fresh probe takes over, so that a recovery is seen too. What the reports mean (grace,
 * minimum duration) is ContainerWatch's to judge, not this file's.
 */
import type { CheckSpec } from '../checks/types.js';
import type { AgentRunner } from '../probes/agent-runner.js';
import type { Probe, ProbeHandle, ProbeTarget } from '../probes/probe.js';
import type { HealthReport } from './container-watch.js';
import type { ContainerFacts } from './engine.js';

export interface CheckPlan {
  /** With container ports and no host: the address is the container's. */
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** Failures in a row of one check that make the container unhealthy. */
  readonly retries: number;
}

export interface ProbeHealthOptions {
  readonly probe: Probe;
  readonly plan: CheckPlan;
  /** Sidecar probing: where the agent runs for this container. Absent: native, at the container's address. */
  readonly agentFor?: (facts: ContainerFacts) => AgentRunner;
}

/** Health checks for every watched container, one probe each; close() cancels them all. */
export class ProbeHealth {
  constructor(private readonly options: ProbeHealthOptions) {}

  /**
   * Starts probing one container. Undefined, with why, when it cannot be probed: native checks need an address.
   */
  start(facts: ContainerFacts, app: string, report: (health: HealthReport) => void): ProbeRun | string {
    const { agentFor, plan } = this.options;
    if (agentFor === undefined && facts.address === undefined) return 'it has no IP address of its own (network mode host or none?): native checks cannot reach it';
    const host = facts.address ?? '';
    const target: ProbeTarget = {
      app,
      instance: facts.name,
      endpoint: (port) => ({ host, port }),
      ...(agentFor === undefined ? {} : { agent: agentFor(facts) }),
    };
    return new ProbeRun(this.options.probe, target, plan, report);
  }

  close(): Promise<void> {
    return this.options.probe.close();
  }
}

/** One container's probe, renewed after each end; cancel() stops it for good. */
export class ProbeRun {
  private handle: ProbeHandle | undefined;
  private cancelled = false;

  constructor(
    private readonly probe: Probe,
    private readonly target: ProbeTarget,
    private readonly plan: CheckPlan,
    private readonly report: (health: HealthReport) => void,
  ) {
    this.begin();
  }

  cancel(): void {
    this.cancelled = true;
    this.handle?.cancel();
  }

  private begin(): void {
    if (this.cancelled) return;
    const { checks, intervalMs, retries } = this.plan;
    this.handle = this.probe.liveness(this.target, { checks, intervalMs, failureThreshold: retries }, {
      round: (_, passed) => {
        if (passed && !this.cancelled) this.report({ kind: 'healthy' });
      },
      ready: () => undefined,
      end: (end) => {
        if (this.cancelled) return;
        this.report({ kind: 'unhealthy', reason: end.reason });
        // A fresh probe keeps looking, so that a recovery is seen.
        this.begin();
      },
    });
  }
}
