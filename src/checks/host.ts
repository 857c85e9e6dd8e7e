import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** Where interfaces come from; injectable so that discovery can be tested without touching the machine's. */
export type InterfaceSource = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Diego's rule for an agent given no host: the first non-loopback IPv4 address, in the kernel's interface order.
 * Inside a container that is the container's own address, which is where the app listens.
 * Undefined when there is none (the caller reports `no-interface`, exit 3).
 */
export function findHostAddress(source: InterfaceSource = networkInterfaces): string | undefined {
  const interfaces = source();
  for (const name in interfaces) {
    for (const info of interfaces[name] ?? []) {
      // `internal` is the loopback flag; the 127/8 test also covers a loopback address on an ordinary interface.
      if (info.family === 'IPv4' && !info.internal && !info.address.startsWith('127.')) return info.address;
    }
  }
  return undefined;
}
