/** The HTTP endpoint's settings, as `lifeguard run`'s config and `lifeguard watch`'s settings both take them. */
import { z } from 'zod';
import { type Fail, got, nonEmptyString } from './config-fields.js';
import { isLoopback, parseListenAddress } from './listen-address.js';

export interface HttpEndpointConfig {
  /** `host:port`, an IP literal; loopback unless allowNonLoopback. */
  readonly listen: string;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly allowNonLoopback?: boolean;
}

export const httpSchema = z.strictObject({
  listen: z.string({ error: 'expected an address such as 127.0.0.1:9464' }),
  token: nonEmptyString('a non-empty token').optional(),
  allowNonLoopback: z.boolean({ error: 'expected true or false' }).optional(),
}, { error: 'expected an object' });

export function checkHttp(http: z.infer<typeof httpSchema>, fail: Fail): void {
  const address = parseListenAddress(http.listen);
  if (address === undefined) {
    fail(['http', 'listen'], `expected an IP address and port such as 127.0.0.1:9464 or [::1]:9464${got(http.listen)}`);
  } else if (!isLoopback(address.host) && http.allowNonLoopback !== true) {
    fail(['http', 'listen'], `expected a loopback address (127.0.0.0/8, ::1) or allowNonLoopback${got(http.listen)}`);
  }
}
