// Private network namespaces for interface-discovery tests (`unshare -n`): the agent finds a real non-loopback
// address without touching the machine's own interfaces, and all traffic stays inside the namespace, which
// dies with the last process in it (the helper kills the whole process group when the shell exits).
import { existsSync } from 'node:fs';
import { AGENT_COMMAND, run, runAgent, type Ended, type RunOptions } from './agent.js';

/** The address of the veth end inside the namespace: what the agent must discover. */
export const NS_ADDRESS = '10.200.0.1';

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) => existsSync(path));
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare', '/usr/sbin/unshare'].find((path) => existsSync(path));

/** Why namespace tests cannot run here, or false when they can; tests pass it as `{ skip }`, visibly. */
export const netnsSkip: string | false =
  process.getuid?.() !== 0
    ? 'needs root for unshare -n'
    : IP === undefined || UNSHARE === undefined
      ? 'needs ip (iproute2) and unshare (util-linux)'
      : false;

/** Brings up loopback and a veth pair whose one end holds NS_ADDRESS. */
const VETH = (ip: string): string =>
  `${ip} link set lo up && ${ip} link add v0 type veth peer name v1 && ${ip} addr add ${NS_ADDRESS}/24 dev v0 && ` +
  `${ip} link set v0 up && ${ip} link set v1 up`;

export interface NamespaceOptions extends RunOptions {
  /** Loopback plus a veth pair holding NS_ADDRESS; without, loopback only. */
  readonly veth: boolean;
  /** The script's "$@", so that arguments need no shell quoting. */
  readonly args?: readonly string[];
  /** A mount namespace of its own too (private propagation): what the script mounts goes when it ends. */
  readonly ownMounts?: boolean;
}

/**
 * Runs a shell script in a fresh network namespace. In the script, `$NODE` is this node binary and the shell
 * function `agent` runs the agent under test (AGENT_COMMAND) with its arguments.
 */
export function inNamespace(script: string, options: NamespaceOptions): Promise<Ended> {
  const setup = options.veth ? VETH(IP!) : `${IP!} link set lo up`;
  const agent = `agent() { ${AGENT_COMMAND.map((_, i) => `"$AGENT_${i}"`).join(' ')} "$@"; }`;
  const namespaces = options.ownMounts ? ['-n', '-m', '--propagation', 'private'] : ['-n'];
  return run(UNSHARE!, [...namespaces, 'sh', '-c', `set -e; ${setup}; ${agent}; ${script}`, 'sh', ...(options.args ?? [])], {
    ...options,
    env: { ...options.env, NODE: process.execPath, ...Object.fromEntries(AGENT_COMMAND.map((word, i) => [`AGENT_${i}`, word])) },
  });
}

/**
 * The agent in a namespace with no interface up (where root allows), for runs that must not reach the network
 * even if they got past the code under test: a check that should never have run finds no address (exit 3).
 */
export function runAgentIsolated(args: readonly string[], options?: RunOptions): Promise<Ended> {
  return netnsSkip ? runAgent(args, options) : run(UNSHARE!, ['-n', ...AGENT_COMMAND, ...args], options);
}
