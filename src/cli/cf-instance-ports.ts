/**
 * The port mapping of Cloud Foundry's `external` build of its healthcheck (Garden-Windows): `CF_INSTANCE_PORTS`
 * holds `[{"internal":8080,"external":61001}, ...]`, and a -port equal to an `internal` port is checked on its
 * `external` one. As in that build, entries apply in order, each to the port the previous ones left, and the
 * comparison is on the text of -port. Used only with -external-port: the default build maps nothing.
 */
import * as z from 'zod/mini';
import { invalidValue, parsePort } from '../checks/parse.js';
import type { Getenv } from './invocation.js';

const EXPECTED = 'a JSON array such as [{"internal":8080,"external":61001}], for -external-port';

const mappings = z.array(z.object({ internal: z.int(), external: z.int() }));

/** The port to check for -port's text, from the environment's CF_INSTANCE_PORTS; a usage error when unusable. */
export function externalPort(portText: string, getenv: Getenv): number {
  parsePort('-port', portText);
  const text = getenv('CF_INSTANCE_PORTS') ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The binary ignores a mapping it cannot read and checks the internal port, which is never where the app is.
    return invalidValue('CF_INSTANCE_PORTS', text, EXPECTED);
  }
  const parsed = mappings.safeParse(json);
  if (!parsed.success) return invalidValue('CF_INSTANCE_PORTS', text, EXPECTED);
  let port = portText;
  for (const mapping of parsed.data) if (String(mapping.internal) === port) port = String(mapping.external);
  return parsePort('CF_INSTANCE_PORTS', port);
}
