/**
 * Sidecar agents for watched containers: each a container of its own in the watched one's network namespace,
 * running the single executable bind-mounted read-only, as the docker driver's sidecars do (the runner is
 * theirs: docker-sidecar.ts). They carry `lifeguard.role=sidecar`, so no watcher ever watches them, and
 * `lifeguard.watcher=<tag>`, so that a watcher started after a killed one removes what it left.
 */
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import { ContainerAgentRunner } from '../probes/docker-sidecar.js';
import type { AgentRunner } from '../probes/agent-runner.js';
import type { ContainerFacts } from './engine.js';
import { ROLE_LABEL } from '../shared/owner.js';

const WATCHER_LABEL = 'lifeguard.watcher';

export interface SidecarSettings {
  /** The single executable (dist/healthcheck) on the engine's host. */
  readonly agentBinary: string;
  /** The sidecars' image; absent: the watched container's own (it must run a glibc executable). */
  readonly image?: string;
}

export class WatchSidecars {
  constructor(
    private readonly docker: Docker,
    private readonly settings: SidecarSettings,
    /** Which watcher's sidecars these are. */
    private readonly tag: string,
  ) {}

  runnerFor(facts: ContainerFacts): AgentRunner {
    return new ContainerAgentRunner({
      docker: this.docker,
      appContainerId: facts.id,
      appContainerName: facts.name,
      image: this.settings.image ?? facts.image,
      agentBinary: resolve(this.settings.agentBinary),
      labels: { [ROLE_LABEL]: 'sidecar', [WATCHER_LABEL]: this.tag, 'lifeguard.watched': facts.id },
    });
  }

  /** Removes every sidecar a previous watcher with the same tag left (killed before it could). */
  async cleanup(): Promise<void> {
    const left = await this.docker.listContainers({ all: true, filters: { label: [`${WATCHER_LABEL}=${this.tag}`, `${ROLE_LABEL}=sidecar`] } });
    await Promise.all(left.map(({ Id }) => this.docker.getContainer(Id).remove({ force: true }).catch(() => undefined)));
  }
}
