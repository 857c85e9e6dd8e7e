import { formatAddress } from './errors.js';
import type { CheckSpec } from './types.js';

/**
 * A check as the operator would write it with `--check`: `tcp://10.0.0.5:8080`, `http://[::1]:8080/health`.
 * A spec without a host renders as `tcp://:8080`, the same shorthand `--check` accepts for "this machine".
 */
export function formatTarget(spec: CheckSpec, host: string = spec.host ?? ''): string {
  const address = formatAddress(host, spec.port);
  return spec.kind === 'tcp' ? `tcp://${address}` : `http://${address}${spec.path}`;
}
