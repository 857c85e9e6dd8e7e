import type { HttpFacts } from './errors.js';
import type { HttpCheckSpec } from './types.js';

/** The facts of an HTTP check's failure, for whoever reports one (the check, or an agent that gave up on it). */
export function httpFacts(spec: HttpCheckSpec, host: string): HttpFacts {
  return {
    uri: spec.path,
    host,
    port: spec.port,
    ...(spec.portText === undefined ? {} : { portText: spec.portText }),
    ...(spec.tls === undefined ? {} : { tls: true }),
    ...(spec.wording === undefined ? {} : { wording: spec.wording }),
  };
}
