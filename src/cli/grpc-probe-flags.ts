/**
 * grpc-health-probe's flags and their kinds. Apart from its dialect's parser, the entry reads the names: none of them
 * is Cloud Foundry's, so any one of them marks that dialect (agent-args.ts). Made when a single-dash flag is first
 * looked up (lazily.ts): a native command line has none, and every start loads this module.
 */
import { lazily } from '../checks/lazily.js';
import type { GoFlagKind } from './go-flags.js';

export const grpcProbeFlags = lazily((): Readonly<Record<string, GoFlagKind>> => ({
  addr: 'string',
  service: 'string',
  'user-agent': 'string',
  'connect-timeout': 'string',
  'rpc-timeout': 'string',
  tls: 'bool',
  'tls-no-verify': 'bool',
  'tls-ca-cert': 'string',
  'tls-client-cert': 'string',
  'tls-client-key': 'string',
  'tls-server-name': 'string',
  'rpc-header': 'list',
  alts: 'bool',
  spiffe: 'bool',
  gzip: 'bool',
  v: 'bool',
  version: 'bool',
}));
