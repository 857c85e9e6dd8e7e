import { formatAddress } from './errors.js';
import type { CheckSpec } from './types.js';

/**
 * A check as the operator would write it with `--check`: `tcp://10.0.0.5:8080`, `https://[::1]:8443/health`,
 * `grpc://db.internal:50051/my.Service`. A spec without a host renders as `tcp://:8080`, the same shorthand
 * `--check` accepts for "this machine". Options beyond the URL (TLS files, assertions) are not part of it.
 */
export function formatTarget(spec: CheckSpec, host: string = spec.host ?? ''): string {
  const address = formatAddress(host, spec.port);
  switch (spec.kind) {
    case 'tcp':
      return `tcp://${address}`;
    case 'http':
      return `${spec.tls === undefined ? 'http' : 'https'}://${address}${spec.path}`;
    case 'grpc':
      if (spec.unixSocket !== undefined) return `${spec.tls === undefined ? 'grpc' : 'grpcs'}+unix://${spec.unixSocket}${spec.service === '' ? '' : `#${spec.service}`}`;
      return `${spec.tls === undefined ? 'grpc' : 'grpcs'}://${address}${spec.service === '' ? '' : `/${spec.service}`}`;
  }
}
