/**
 * The netns driver (root): each instance is a child process, as under the process driver, but in its own network
 * namespace `lg-<owner>-<slot>` with one veth pair: `eth0` inside, `lg<slot>h` on the host, on a /30 of its own
 * from 10.213.0.0/16 (slot s: host end 10.213.0.0 + 4s + 1, instance 4s + 2; 16384 slots). The app listens on
 * its container ports (PORT is the first), the supervisor reaches them over the pair, and a sidecar agent runs
 * inside the namespace (`ip netns exec` execs it, so its pid and fd 3 are its own) and finds the instance's
 * address the Diego way, as the first non-loopback IPv4 address. Nothing else is routed: no default route, no NAT.
 *
 * A slot is claimed atomically by creating its host link (a name the kernel refuses twice), so concurrent
 * supervisors never share a subnet. Namespaces are named after the owning state directory, so a restarted
 * supervisor deletes every one its predecessor left (cleanup), with whatever still runs inside.
 */
import { ownerTag } from '../../shared/owner.js';
import { LocalAgentRunner } from '../../probes/agent-process.js';
import type { DestroyOutcome, Driver, LaunchRequest, LaunchResult, RunningInstance } from './driver.js';
import { IP_PATH, ip, ipQuiet } from './ip-command.js';
import { ChildInstance, type ChildSettings, spawnApp } from './process.js';
import { locateAppProgram, programFailure } from './program.js';

const SLOTS = 16384;
const SUBNET_BASE = (10 << 24) | (213 << 16);
/** Slots tried per launch before giving up: the kernel's links, not this process, say which are free. */
const SLOT_TRIES = 64;

export interface NetnsOptions {
  /** The healthcheck executable run inside each namespace for sidecar probing. */
  readonly agentPath: string;
  /** Names the namespaces, so that a supervisor on the same state directory finds them again. */
  readonly stateDir: string;
  /** Each instance's processes contained and their output kept, as under the process driver. */
  readonly child: ChildSettings;
}

/** One instance's namespace and veth pair. */
interface Network {
  readonly name: string;
  readonly hostLink: string;
  /** The instance's address, inside the namespace. */
  readonly address: string;
}

export class NetnsDriver implements Driver {
  private readonly prefix: string;
  private nextSlot = 0;

  constructor(private readonly options: NetnsOptions) {
    this.prefix = `lg-${ownerTag(options.stateDir)}-`;
  }

  async launch({ instance, spec, onExit }: LaunchRequest): Promise<LaunchResult> {
    const [command, ...args] = spec.command ?? [];
    if (command === undefined) return { ok: false, reason: 'no command given' };
    const ipPath = IP_PATH;
    if (ipPath === undefined) return { ok: false, reason: 'the netns driver needs ip (iproute2)' };
    // What is spawned is `ip`, which would only fail to exec the program later, as an exit like any crash.
    const located = locateAppProgram(command, spec);
    if ('problem' in located) return { ok: false, reason: programFailure(command, located.problem), permanent: true };
    let network: Network;
    try {
      network = await this.createNetwork();
    } catch (error) {
      return { ok: false, reason: `cannot create a network namespace: ${(error as Error).message}` };
    }
    // Container ports are the app's own ports here: nothing is remapped.
    const ports = new Map(spec.ports.map((port) => [port, port]));
    const started = await spawnApp([ipPath, 'netns', 'exec', network.name, command, ...args], instance, spec, ports, this.options.child);
    if (!started.ok) {
      await deleteNetwork(network);
      return started;
    }
    const agent = new LocalAgentRunner(this.options.agentPath, { inContext: true, prefix: [ipPath, 'netns', 'exec', network.name] });
    return { ok: true, running: new NamespacedInstance(new ChildInstance(started.started, network.address, ports, onExit), network, agent) };
  }

  /** Deletes every namespace of this owner, with what runs in it and its host link. */
  async cleanup(): Promise<void> {
    await this.options.child.containment.reap();
    if (IP_PATH === undefined) return;
    const listed = await ip('netns', 'list').catch(() => '');
    const names = listed
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(this.prefix));
    for (const name of names) {
      const slot = Number(name.slice(this.prefix.length));
      await deleteNetwork({ name, hostLink: hostLink(slot), address: '' });
    }
  }

  private async createNetwork(): Promise<Network> {
    let lastError: Error | undefined;
    for (let tries = 0; tries < SLOT_TRIES; tries++) {
      const slot = this.nextSlot;
      this.nextSlot = (this.nextSlot + 1) % SLOTS;
      const network = { name: `${this.prefix}${slot}`, hostLink: hostLink(slot), address: slotAddress(slot, 2) };
      try {
        await ip('netns', 'add', network.name);
      } catch (error) {
        lastError = error as Error; // a leftover of ours not yet cleaned up, or a racing launch
        continue;
      }
      try {
        // Created with its peer already inside: no instant in which a half-made pair sits on the host unnamed.
        await ip('link', 'add', network.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', network.name);
      } catch (error) {
        lastError = error as Error; // another supervisor holds this slot
        await ipQuiet('netns', 'del', network.name);
        continue;
      }
      try {
        await configure(network, slot);
        return network;
      } catch (error) {
        await deleteNetwork(network);
        throw error;
      }
    }
    throw lastError ?? new Error('no free slot');
  }
}

/** The child, its namespace, and the agent runner that enters it; destroy ends the child, then the network. */
class NamespacedInstance implements RunningInstance {
  readonly pid: number;
  readonly address: string;
  readonly tracked: RunningInstance['tracked'];

  constructor(
    private readonly child: ChildInstance,
    private readonly network: Network,
    readonly agent: LocalAgentRunner,
  ) {
    this.pid = child.pid;
    this.address = child.address;
    this.tracked = child.tracked;
  }

  get exited(): boolean {
    return this.child.exited;
  }

  endpoint(containerPort: number): ReturnType<RunningInstance['endpoint']> {
    return this.child.endpoint(containerPort);
  }

  async destroy(gracePeriodMs: number): Promise<DestroyOutcome> {
    const outcome = await this.child.destroy(gracePeriodMs);
    await deleteNetwork(this.network);
    return outcome;
  }
}

async function configure(network: Network, slot: number): Promise<void> {
  const inside = ['-n', network.name];
  await ip('addr', 'add', `${slotAddress(slot, 1)}/30`, 'dev', network.hostLink);
  await ip('link', 'set', network.hostLink, 'up');
  await ip(...inside, 'link', 'set', 'lo', 'up');
  await ip(...inside, 'addr', 'add', `${network.address}/30`, 'dev', 'eth0');
  await ip(...inside, 'link', 'set', 'eth0', 'up');
}

/**
 * Kills whatever still runs in the namespace (an app that left its process group keeps it alive), then removes
 * the namespace and the host link; every step tolerates what is already gone.
 */
async function deleteNetwork(network: Network): Promise<void> {
  const pids = await ip('netns', 'pids', network.name).catch(() => '');
  for (const pid of pids.split('\n').filter((line) => /^\d+$/.test(line))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone since it was listed
    }
  }
  await ipQuiet('netns', 'del', network.name);
  await ipQuiet('link', 'del', network.hostLink);
}

function hostLink(slot: number): string {
  return `lg${slot}h`;
}

/** The n-th address of a slot's /30 (1: host end, 2: the instance). */
function slotAddress(slot: number, n: 1 | 2): string {
  const address = SUBNET_BASE + slot * 4 + n;
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.');
}
