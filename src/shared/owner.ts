/**
 * Which supervisor owns a namespace or a container: a short hash of its state directory's absolute path. Two
 * supervisors on one machine (different state directories) never clean up each other's instances; a supervisor
 * restarted on the same state directory finds all that its predecessor left, by name or label, even what was
 * created in the instant before a record could be written.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/**
 * What a container lifeguard made itself is: `app` (an instance of `lifeguard run`'s docker driver) or `sidecar`
 * (an agent's container, run's or watch's). `lifeguard watch` never watches a container that carries it.
 */
export const ROLE_LABEL = 'lifeguard.role';

export function ownerTag(stateDir: string): string {
  return createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 8);
}
