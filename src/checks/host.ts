import type { NetworkInterfaceInfo } from 'node:os';
import { lifeguardError, type LifeguardError } from './errors.js';

/** Where interfaces come from; injectable so that discovery can be tested without touching the machine's. */
export type InterfaceSource = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Which addresses discovery passes over. `lifeguard`: every address of an interface flagged loopback, and any
 * 127.0.0.0/8 address. `cloud-foundry`: only 127.0.0.0/8 addresses, as Cloud Foundry's binary does (Go's
 * `IP.IsLoopback`), so that an address such as 10.99.0.1 placed on `lo` is used there too.
 */
export type InterfaceRule = 'lifeguard' | 'cloud-foundry';

/**
 * Diego's rule for an agent given no host: the first IPv4 address that is not loopback, in the kernel's interface
 * order. Inside a container that is the container's own address, which is where the app listens.
 * Undefined when there is none (the caller reports `no-interface`, exit 3).
 */
export function findHostAddress(rule: InterfaceRule, source: InterfaceSource): string | undefined {
  const interfaces = source();
  for (const name in interfaces) {
    for (const info of interfaces[name] ?? []) {
      // `internal` is Node's name for the interface's loopback flag.
      const skipped = info.address.startsWith('127.') || (rule === 'lifeguard' && info.internal);
      if (info.family === 'IPv4' && !skipped) return info.address;
    }
  }
  return undefined;
}

/**
 * findHostAddress on this machine's interfaces, or why there is none (`no-interface`, exit 3): none fits, or the
 * system would not list them (getifaddrs opens a netlink socket, so an agent with no descriptor to spare gets
 * EMFILE), which is told with its reason rather than as an unexpected error. node:os is imported here, when first
 * needed, and imported whole: in the Bun executable, a chunk of its own whose static import named
 * `networkInterfaces` cost a Cloud Foundry start 22 page faults more than this dynamic import does (bench:agent's
 * CF-flags row).
 */
export async function lookUpHostAddress(rule: InterfaceRule): Promise<string | LifeguardError> {
  const { networkInterfaces } = await import('node:os');
  try {
    return findHostAddress(rule, networkInterfaces) ?? lifeguardError('no-interface', undefined);
  } catch (thrown) {
    // Only the system's refusal is a fact about the machine; anything else is a bug of ours (exit 127, one line).
    if ((thrown as { code?: unknown } | undefined)?.code !== 'ERR_SYSTEM_ERROR') throw thrown;
    return lifeguardError('no-interface', { reason: systemReason(thrown) });
  }
}

/**
 * Node's SystemError (code ERR_SYSTEM_ERROR, both runtimes) carries the errno's words in `info` (`too many open
 * files`); Bun's says only its message.
 */
function systemReason(thrown: unknown): string {
  const info = (thrown as { info?: { message?: unknown } } | undefined)?.info;
  if (typeof info?.message === 'string') return info.message;
  return thrown instanceof Error ? thrown.message : String(thrown);
}
