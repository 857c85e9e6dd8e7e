/** The HTTP server's settings, as `lifeguard run`'s config and `lifeguard watch`'s settings both take them. */
import { z } from 'zod';
import { type Fail, got, nonEmptyString } from './config-fields.js';
import { checkListenAddress, expectedListenAddress } from './listen-address.js';

export interface HttpServerConfig {
  /** `host:port`, an IP literal; loopback unless allowNonLoopback. */
  readonly listen: string;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly allowNonLoopback?: boolean;
}

export const httpSchema = z.strictObject({
  listen: z.string({ error: expectedListenAddress() }),
  token: nonEmptyString('a non-empty token').optional(),
  allowNonLoopback: z.boolean({ error: 'expected true or false' }).optional(),
}, { error: 'expected an object' });

export function checkHttp(http: z.infer<typeof httpSchema>, fail: Fail): void {
  const address = checkListenAddress(http.listen, http.allowNonLoopback === true);
  if ('problem' in address) fail(['http', 'listen'], `${address.problem}${got(http.listen)}`);
}
