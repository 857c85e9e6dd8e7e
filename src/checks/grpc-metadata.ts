/**
 * gRPC call metadata as it goes on the wire, apart from the check (grpc-check.ts loads its HTTP/2 client; the
 * command-line parsers that need these rules must not).
 */

/**
 * A header gRPC sets itself, which call metadata cannot set (grpc-go's reserved set, but `user-agent`, which a check's
 * metadata may give to replace its own): other `grpc-` keys are metadata like any other. A switch, not a Set made at
 * load: a Set built from an array costs the start of every gRPC check page faults, metadata or not.
 */
export function isReservedMetadata(key: string): boolean {
  switch (key) {
    case 'content-type':
    case 'te':
    case 'grpc-message-type':
    case 'grpc-encoding':
    case 'grpc-message':
    case 'grpc-status':
    case 'grpc-timeout':
    case 'grpc-status-details-bin':
      return true;
    default:
      return false;
  }
}

/** A value as sent: a `-bin` key's is binary, and travels base64-encoded without padding, as gRPC's wire format says. */
export function wireValue(key: string, value: string): string {
  return key.endsWith('-bin') ? Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, '') : value;
}
