/**
 * The watch form of `GET /apps/<name>/endpoints` (README "Routing"): Server-Sent Events for a load balancer or a
 * script to follow. At connect and on every change of that app's routable instances,
 * `event: endpoints\ndata: {"app":"web","endpoints":[...]}\n\n`; a `: keepalive` comment every 15 s, so that
 * proxies and clients that time out silent connections keep it open; the stream ends when the supervisor stops.
 *
 * Node's requestTimeout does not cut it: it bounds receiving the request, which ended before the stream began.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeEvent } from './event-stream.js';
import type { RoutableInstances } from '../../shared/status.js';

const KEEPALIVE_MS = 15_000;
/** Watches at once; each costs a socket and a timer, and they are load balancers, not browsers. */
const MAX_WATCHES = 64;

/** What the watch needs of a Supervisor: the list, its changes, and the end. */
export interface EndpointFeed {
  endpoints(app: string): RoutableInstances | undefined;
  on(event: 'endpoints', listener: (change: RoutableInstances) => void): unknown;
  on(event: 'stopped', listener: () => void): unknown;
  off(event: 'endpoints', listener: (change: RoutableInstances) => void): unknown;
  off(event: 'stopped', listener: () => void): unknown;
}

interface Stream {
  readonly app: string;
  /** The last event sent, so that a change is sent once and a non-change never. */
  last: string;
  readonly keepalive: NodeJS.Timeout;
}

export class EndpointStreams {
  private readonly streams = new Map<ServerResponse, Stream>();
  private stopped = false;

  constructor(private readonly feed: EndpointFeed) {
    // Listened to only while a watch is open: the supervisor makes no list for nobody.
    feed.on('stopped', this.close);
  }

  /** The watch of `list`'s app, answered on `res`. */
  serve(req: IncomingMessage, res: ServerResponse, list: RoutableInstances): void {
    if (this.streams.size >= MAX_WATCHES) {
      res.writeHead(503, { 'Retry-After': '5', 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ error: `at most ${MAX_WATCHES} endpoint watches at once` })}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    const first = event(list);
    // A supervisor that has stopped has nothing more to tell: the (empty) list, and the end.
    if (req.method === 'HEAD' || this.stopped) return void res.end(req.method === 'HEAD' ? undefined : first);
    const keepalive = setInterval(() => writeEvent(res, ': keepalive\n\n'), KEEPALIVE_MS);
    if (this.streams.size === 0) this.feed.on('endpoints', this.changed);
    this.streams.set(res, { app: list.app, last: first, keepalive });
    res.once('close', () => this.forget(res));
    writeEvent(res, first);
  }

  /** Ends every watch (the supervisor stopped, or the HTTP server closes) and stops listening. */
  readonly close = (): void => {
    this.stopped = true;
    this.feed.off('endpoints', this.changed);
    this.feed.off('stopped', this.close);
    for (const res of [...this.streams.keys()]) {
      this.forget(res);
      res.end();
    }
  };

  private readonly changed = (change: RoutableInstances): void => {
    const text = event(change);
    for (const [res, stream] of this.streams) {
      if (stream.app !== change.app || stream.last === text) continue;
      stream.last = text;
      writeEvent(res, text);
    }
  };

  private forget(res: ServerResponse): void {
    const stream = this.streams.get(res);
    if (stream === undefined) return;
    clearInterval(stream.keepalive);
    this.streams.delete(res);
    if (this.streams.size === 0) this.feed.off('endpoints', this.changed);
  }
}

/** The documented body, field by field: the same in GET's answer and in each event. */
export function endpointsBody(list: RoutableInstances): RoutableInstances {
  return { app: list.app, endpoints: list.endpoints.map((e) => ({ instance: e.instance, address: e.address })) };
}

function event(list: RoutableInstances): string {
  return `event: endpoints\ndata: ${JSON.stringify(endpointsBody(list))}\n\n`;
}
