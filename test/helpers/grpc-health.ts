// A gRPC health server on loopback, on node:http2 (plain or TLS), that answers grpc.health.v1.Health/Check as the
// test says for each service, and records what it was asked. Closed at teardown, its sessions destroyed.
import { once } from 'node:events';
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Test } from 'tap';

/** A ServingStatus to reply with, a grpc-status to fail the call with, or silence. */
export type Answer = { serving: 0 | 1 | 2 | 3 } | { grpcStatus: number; message?: string } | 'never';

interface Asked {
  readonly service: string;
  readonly headers: IncomingHttpHeaders;
  /** The caller's port (undefined on a Unix socket). */
  readonly clientPort: number | undefined;
}

export interface GrpcHealthServer {
  readonly port: number;
  readonly asked: Asked[];
}

/**
 * Answers by service name; services not in the map get grpc-status 5 (NOT_FOUND), as grpc-go's health server does.
 * `host` may be a Unix socket's path (port is then 0).
 */
export async function grpcHealthServer(t: Test, answers: Record<string, Answer>, tls?: SecureServerOptions, host = '127.0.0.1'): Promise<GrpcHealthServer> {
  const asked: Asked[] = [];
  const sessions = new Set<ServerHttp2Session>();
  const server: Http2Server | Http2SecureServer = tls === undefined ? createServer() : createSecureServer(tls);
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const request = Buffer.concat(chunks);
      // A compressed request (flag 1, `-gzip`) is read as gRPC servers read it: the message gunzipped.
      const body = request[0] === 1 ? Buffer.concat([request.subarray(0, 5), gunzipSync(request.subarray(5))]) : request;
      // The request: a 5-byte prefix, then field 1 (0x0a, a one-byte length in these tests), the service name.
      const service = body.length > 5 ? body.subarray(7, 7 + (body[6] as number)).toString('utf8') : '';
      asked.push({ service, headers, clientPort: stream.session?.socket.remotePort });
      const answer = answers[service] ?? { grpcStatus: 5, message: 'unknown service' };
      if (answer === 'never') return;
      if ('grpcStatus' in answer) {
        // Trailers-only, as gRPC servers fail a call.
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(answer.grpcStatus), ...(answer.message === undefined ? {} : { 'grpc-message': encodeURIComponent(answer.message) }) }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const message = answer.serving === 0 ? Buffer.alloc(0) : Buffer.from([0x08, answer.serving]);
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);
      stream.end(frame);
    });
  });
  server.on('tlsClientError', () => {});
  if (host.startsWith('/')) server.listen(host);
  else server.listen(0, host);
  await once(server, 'listening');
  t.teardown(() => {
    for (const session of sessions) session.destroy();
    return new Promise((resolve) => server.close(() => resolve(undefined)));
  });
  const address = server.address();
  return { port: typeof address === 'string' ? 0 : (address as AddressInfo).port, asked };
}
