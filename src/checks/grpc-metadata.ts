/**
 * gRPC call metadata as it goes on the wire, apart from the check (grpc-check.ts loads its HTTP/2 client; the
 * command-line parsers that need these rules must not).
 */

/**
 * Headers gRPC sets itself, which call metadata cannot (grpc-go's reserved set, but `user-agent`, which a check's
 * metadata may give to replace its own): other `grpc-` keys are metadata like any other.
 */
export const RESERVED_METADATA: ReadonlySet<string> = new Set([
  'content-type', 'te', 'grpc-message-type', 'grpc-encoding', 'grpc-message', 'grpc-status', 'grpc-timeout',
  'grpc-status-details-bin',
]);

/** A value as sent: a `-bin` key's is binary, and travels base64-encoded without padding, as gRPC's wire format says. */
export function wireValue(key: string, value: string): string {
  return key.endsWith('-bin') ? Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, '') : value;
}
