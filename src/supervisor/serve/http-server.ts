/**
 * The supervisor's HTTP server (README "HTTP endpoint and metrics"): `GET /status`, `GET /healthz`,
 * `GET /metrics`, `GET /apps/<name>/endpoints` (and its watch), `POST /apps/<name>/claim` and
 * `DELETE /apps/<name>/claims/<id>`. It can start and hand out
 * instances, so it binds loopback unless told otherwise, can demand a bearer token, and bounds what a client may
 * make it hold: header size and time, body size, request time and connection count. The time limits are held
 * to within a second (Node checks them on a sweep, every 30s by default), so that slow clients cannot fill the
 * connection slots the operator's own requests need.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LifeguardFailure, usageError } from '../../checks/errors.js';
import { checkListenAddress, type ListenAddress } from '../../shared/listen-address.js';
import { type EndpointFeed, endpointsBody, EndpointStreams } from './endpoint-watch.js';
import type { PageRoutes } from './status-page.js';
import type { RoutableInstances, AppStatus, Claim, InstanceStatus, ServedState, SupervisorStatus } from '../../shared/status.js';

export interface HttpServerOptions {
  /** `127.0.0.1:9464`, `[::1]:9464`; port 0 picks a free one (see HttpServer.address). */
  readonly listen: string;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Bind a non-loopback address; without it such an address is refused. */
  readonly allowNonLoopback?: boolean;
}

/** What the server needs of a Supervisor. Without `claim` (`lifeguard watch`), there is no claim route. */
export interface HttpServerSource {
  status(): SupervisorStatus<ServedState>;
  claim?(app: string): Promise<Claim | undefined>;
  /** Ends a claimed instance; false when `app` has no claimed instance `id`. */
  release?(app: string, id: string): Promise<boolean>;
  /**
   * An app's routable instances (undefined: no such app), with `on`/`off` for their changes and the supervisor's
   * stop (EndpointFeed); without them (`lifeguard watch`), there is no endpoints route.
   */
  endpoints?(app: string): RoutableInstances | undefined;
  on?: EndpointFeed['on'];
  off?: EndpointFeed['off'];
}

/** What the server serves at /metrics: SupervisorMetrics, or the watcher's. */
export interface MetricsExposition {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface HttpServer {
  /** Where it listens, with the real port when 0 was asked for. */
  readonly address: ListenAddress;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024;
const LIMITS = {
  headersTimeout: 5_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
  maxHeaderSize: 8 * 1024,
  maxHeadersCount: 50,
  // Well under the default 1024 descriptors, well over what slow clients can hold within headersTimeout.
  maxConnections: 512,
  connectionsCheckingInterval: 1_000,
};

const CLAIM_PATH = /^\/apps\/([^/]+)\/claim$/;
const RELEASE_PATH = /^\/apps\/([^/]+)\/claims\/([^/]+)$/;
const ENDPOINTS_PATH = /^\/apps\/([^/]+)\/endpoints$/;

export async function startHttpServer(
  source: HttpServerSource,
  metrics: MetricsExposition,
  options: HttpServerOptions,
  /** The status page at `/` and `/events` (`lifeguard run`); absent: no page. */
  page?: PageRoutes,
): Promise<HttpServer> {
  const wanted = checkListenAddress(options.listen, options.allowNonLoopback === true);
  if ('problem' in wanted) throw failure(options.listen, wanted.problem);
  const authorized = options.token === undefined ? () => true : tokenCheck(options.token);
  const feed = endpointFeed(source);
  const streams = feed === undefined ? undefined : new EndpointStreams(feed);

  const server = createServer({ maxHeaderSize: LIMITS.maxHeaderSize, connectionsCheckingInterval: LIMITS.connectionsCheckingInterval }, (req, res) => {
    readBoundedBody(req, res, () => {
      // The supervisor's own health says nothing about its apps: served without the token, for any prober.
      if (req.url === '/healthz') {
        if (allow(req, res, 'GET')) sendJson(res, 200, { status: 'ok' });
        return;
      }
      // A browser cannot send the header: the page's own routes also take the token from a cookie (status-page.ts).
      if (!authorized(bearer(req.headers.authorization) ?? page?.pageToken(req, pathOf(req)))) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return sendJson(res, 401, { error: 'missing or wrong bearer token' });
      }
      route(req, res).catch((error: unknown) => {
        sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
    });
  });
  server.headersTimeout = LIMITS.headersTimeout;
  server.requestTimeout = LIMITS.requestTimeout;
  server.keepAliveTimeout = LIMITS.keepAliveTimeout;
  server.maxHeadersCount = LIMITS.maxHeadersCount;
  server.maxConnections = LIMITS.maxConnections;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    const claim = CLAIM_PATH.exec(path);
    const release = RELEASE_PATH.exec(path);
    const endpoints = ENDPOINTS_PATH.exec(path);
    if (path === '/status') {
      if (!allow(req, res, 'GET')) return;
      return sendJson(res, 200, statusBody(source.status()));
    }
    if (path === '/metrics') {
      if (!allow(req, res, 'GET')) return;
      const text = await metrics.metrics();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      return void res.end(req.method === 'HEAD' ? undefined : text);
    }
    if (claim !== null && source.claim !== undefined) {
      if (!allow(req, res, 'POST')) return;
      const app = decodeSegment(claim[1] as string);
      const known = source.status().apps.find((a) => a.name === app);
      if (app === undefined || known === undefined) return sendJson(res, 404, { error: `unknown app '${app ?? claim[1]}'` });
      // No pool: no instance will ever be ready to claim, so a Retry-After would have a client retry for ever.
      if (known.prewarmDesired === 0) return sendJson(res, 409, { error: `app '${app}' has no prewarm pool (prewarm is 0)` });
      const claimed = await source.claim(app);
      if (claimed === undefined) {
        res.setHeader('Retry-After', '1');
        return sendJson(res, 503, { error: `no prewarmed instance of '${app}' is ready` });
      }
      return sendJson(res, 200, { id: claimed.id, address: claimed.address });
    }
    if (release !== null && source.release !== undefined) {
      if (!allow(req, res, 'DELETE')) return;
      const [app, id] = [decodeSegment(release[1] as string), decodeSegment(release[2] as string)];
      if (app === undefined || id === undefined || !(await source.release(app, id))) {
        return sendJson(res, 404, { error: `no claimed instance '${id ?? release[2]}' of app '${app ?? release[1]}'` });
      }
      res.writeHead(204);
      return void res.end();
    }
    if (endpoints !== null && feed !== undefined && streams !== undefined) {
      if (!allow(req, res, 'GET')) return;
      const app = decodeSegment(endpoints[1] as string);
      const list = app === undefined ? undefined : feed.endpoints(app);
      if (list === undefined) return sendJson(res, 404, { error: `unknown app '${app ?? endpoints[1]}'` });
      if (wantsWatch(req)) return streams.serve(req, res, list);
      return sendJson(res, 200, endpointsBody(list));
    }
    if (page?.handle(req, res, path) === true) return;
    sendJson(res, 404, { error: `no such endpoint: ${path}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted.port, wanted.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    throw failure(options.listen, error.code === 'EADDRINUSE' ? 'address already in use' : error.message);
  });
  const bound = server.address() as AddressInfo;

  return {
    address: { host: wanted.host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        // Watches end with their last chunk rather than a cut connection.
        streams?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The documented shape of GET /status, field by field, so that internal additions do not leak into the API. */
function statusBody(status: SupervisorStatus<ServedState>): unknown {
  const instance = (i: InstanceStatus<ServedState>) => ({
    id: i.id, state: i.state, address: i.address, pid: i.pid, restarts: i.restarts, since: i.since,
    ...(i.routable === undefined ? {} : { routable: i.routable }),
    ...(i.checks === undefined ? {} : { checks: i.checks.map((c) => ({ time: c.time, phase: c.phase, passed: c.passed, latencyMs: c.latencyMs })) }),
  });
  const app = (a: AppStatus<ServedState>) => ({
    name: a.name, desired: a.desired, instances: a.instances.map(instance), prewarm: a.prewarm.map(instance),
    ...(a.rollout === undefined ? {} : { rollout: { state: a.rollout.state, updated: a.rollout.updated, outdated: a.rollout.outdated, ...(a.rollout.reason === undefined ? {} : { reason: a.rollout.reason }) } }),
  });
  const containment = status.containment;
  return {
    apps: status.apps.map(app),
    ...(status.config === undefined ? {} : { config: status.config }),
    ...(containment === undefined ? {} : { containment: { kind: containment.kind, ...(containment.path === undefined ? {} : { path: containment.path }), ...(containment.controllers === undefined ? {} : { controllers: containment.controllers }), ...(containment.reason === undefined ? {} : { reason: containment.reason }) } }),
  };
}

function endpointFeed(source: HttpServerSource): EndpointFeed | undefined {
  const { endpoints, on, off } = source;
  if (endpoints === undefined || on === undefined || off === undefined) return undefined;
  return { endpoints: endpoints.bind(source), on: on.bind(source), off: off.bind(source) } as EndpointFeed;
}

/** `?watch=1` (or `true`), or an EventSource's `Accept: text/event-stream`. */
function wantsWatch(req: IncomingMessage): boolean {
  const watch = new URL(req.url ?? '/', 'http://endpoint').searchParams.get('watch');
  return watch === '1' || watch === 'true' || /\btext\/event-stream\b/.test(req.headers.accept ?? '');
}

/** Compares digests so that neither the token's content nor its length shows in the response time. */
function tokenCheck(token: string): (candidate: string | undefined) => boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const expected = digest(token);
  return (candidate) => timingSafeEqual(digest(candidate ?? ''), expected) && candidate !== undefined;
}

/** The token of an `Authorization: Bearer <token>` header. */
function bearer(header: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://endpoint').pathname;
}

/** Requests carry no body worth reading; one that is too large is refused before it costs memory. */
function readBoundedBody(req: IncomingMessage, res: ServerResponse, then: () => void): void {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES && !res.headersSent) {
      res.setHeader('Connection', 'close');
      sendJson(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes` });
      req.destroy();
    }
  });
  req.on('end', () => {
    if (!res.headersSent) then();
  });
}

function allow(req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST' | 'DELETE'): boolean {
  const allowed = method === 'GET' ? ['GET', 'HEAD'] : [method];
  if (allowed.includes(req.method ?? '')) return true;
  res.setHeader('Allow', allowed.join(', '));
  sendJson(res, 405, { error: `use ${allowed.join(' or ')}` });
  return false;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function failure(listen: string, reason: string): LifeguardFailure {
  return new LifeguardFailure(usageError(`http.listen '${listen}': ${reason}`));
}
