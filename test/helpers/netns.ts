// Private network namespaces for interface-discovery tests (`unshare -n`): the agent finds a real non-loopback
// address without touching the machine's own interfaces, and all traffic stays inside the namespace, which
// dies with the last process in it (the helper kills the whole process group when the shell exits).
import { existsSync } from 'node:fs';
import { run, type Ended, type RunOptions } from './agent.js';

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

/**
 * Runs a shell script in a fresh network namespace: with `veth`, loopback plus NS_ADDRESS; without, loopback only.
 * `$NODE` in the script is this node binary.
 */
export function inNamespace(script: string, options: RunOptions & { veth: boolean }): Promise<Ended> {
  const setup = options.veth ? VETH(IP!) : `${IP!} link set lo up`;
  return run(UNSHARE!, ['-n', 'sh', '-c', `set -e; ${setup}; ${script}`], {
    ...options,
    env: { ...options.env, NODE: process.execPath },
  });
}
