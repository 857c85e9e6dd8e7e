/**
 * The status page (README "Status page"): `GET /` serves one self-contained HTML document (its script and style
 * inline, allowed by hash in its Content-Security-Policy; no external asset, no build step), and `GET /events`
 * streams the fleet to it as Server-Sent Events: a snapshot at once, after every transition, and every second.
 *
 * A browser cannot put a bearer token on a page load or an EventSource, so with a token configured the page
 * also takes it once as `/?token=…`: the answer sets it as an HttpOnly, SameSite=Strict cookie and redirects to
 * `/`, so the token leaves the address bar and the history; the page and its event stream then send the cookie.
 * The cookie is honoured on these two routes only, never on a claim.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeEvent } from './event-stream.js';
import { FleetHistory } from '../app/history.js';
import type { SupervisorEvents } from '../spec/types.js';
import type { SupervisorStatus } from '../../shared/status.js';
import type { EventEmitter } from 'node:events';

const COOKIE = 'lifeguard_token';
const SNAPSHOT_EVERY_MS = 1000;
/** Event-stream clients at once; each costs a snapshot a second. */
const MAX_STREAMS = 8;
const TRANSITIONS_SHOWN = 50;

export interface StatusSource extends EventEmitter<SupervisorEvents> {
  status(): SupervisorStatus;
}

/** The routes the HTTP server hands to the page. */
export interface PageRoutes {
  /** The token the request carries for the page's own routes (cookie, or `?token=` on `/`), if any. */
  pageToken(req: IncomingMessage, path: string): string | undefined;
  /** Serves `path` if it is the page's; false otherwise. Called once the request is authorized. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  close(): void;
}

export class StatusPage implements PageRoutes {
  private readonly history: FleetHistory;
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private readonly stopListening: () => void;

  constructor(private readonly source: StatusSource) {
    this.history = new FleetHistory(source);
    // Coalesced: a burst of transitions in one turn of the event loop is one snapshot.
    this.stopListening = this.history.subscribe(() => {
      if (this.pending || this.streams.size === 0) return;
      this.pending = true;
      setImmediate(() => {
        this.pending = false;
        this.broadcast();
      });
    });
  }

  pageToken(req: IncomingMessage, path: string): string | undefined {
    if (path !== '/' && path !== '/events') return undefined;
    const query = new URL(req.url ?? '/', 'http://page').searchParams.get('token');
    if (path === '/' && query !== null) return query;
    return cookie(req.headers.cookie, COOKIE);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== '/' && path !== '/events') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      res.end('use GET\n');
      return true;
    }
    if (path === '/') this.page(req, res);
    else this.stream(req, res);
    return true;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopListening();
    this.history.close();
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private page(req: IncomingMessage, res: ServerResponse): void {
    const token = new URL(req.url ?? '/', 'http://page').searchParams.get('token');
    if (token !== null) {
      // The request was authorized with this token: keep it as a cookie, and take it out of the address.
      res.writeHead(303, { Location: '/', 'Set-Cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    // The fleet as it is now goes with the page, so that its first paint shows it before the feed connects.
    const body = `${PAGE_HEAD}${embedded(this.snapshot())}${PAGE_TAIL}`;
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) {
      res.writeHead(503, { 'Retry-After': '5', 'Content-Type': 'text/plain' });
      res.end(`at most ${MAX_STREAMS} status pages at once\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    if (req.method === 'HEAD') return void res.end();
    this.streams.add(res);
    res.once('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    });
    this.timer ??= setInterval(() => this.broadcast(), SNAPSHOT_EVERY_MS);
    writeEvent(res, snapshotEvent(this.snapshot()));
  }

  private broadcast(): void {
    if (this.streams.size === 0) return;
    const text = snapshotEvent(this.snapshot());
    for (const res of this.streams) writeEvent(res, text);
  }

  /** What the page renders: sent with the page, then on its event stream. */
  private snapshot(): unknown {
    return {
      now: Date.now(),
      apps: this.source.status().apps,
      transitions: this.history.recentTransitions().slice(-TRANSITIONS_SHOWN),
      latency: this.history.latencyByApp(),
    };
  }
}

function snapshotEvent(data: unknown): string {
  return `event: snapshot\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * A JSON data block, which the browser never runs (so the CSP needs no hash for it); `<` escaped so that no text in
 * it (an app's crash reason) can close the element.
 */
function embedded(data: unknown): string {
  return `<script type="application/json" id="first">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>\n`;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; background: #f6f7f9; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
#conn { color: #777; font-size: .9em; }
table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0002; }
th, td { padding: .3em .7em; text-align: left; border-bottom: 1px solid #e4e6ea; white-space: nowrap; }
th { font-weight: 600; background: #eef0f3; }
.state { padding: .05em .5em; border-radius: .8em; font-size: .9em; }
.healthy, .claimed { background: #d5f2dc; } .starting, .scheduled { background: #fdf0c4; }
.unhealthy, .crashed, .timed-out, .given-up { background: #f8d3d3; } .destroying, .destroyed { background: #e4e6ea; }
.checks span { display: inline-block; width: .7em; height: 1em; margin-right: 1px; border-radius: 2px; }
.pass { background: #3aa35b; } .fail { background: #d04545; }
.warn td, .error td { color: #a02020; }
svg { background: #fff; box-shadow: 0 1px 2px #0002; }
.chart { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
`;

const SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}
function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? s + 's' : s < 3600 ? Math.floor(s / 60) + 'm' + (s % 60) + 's' : Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
}
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}
function chart(app, buckets, now) {
  const W = 360, H = 90, P = 4;
  // Up to the last 10 minutes; a supervisor younger than that shows what it has, at least a minute.
  const first = buckets.length === 0 ? now : buckets[0].start;
  const span = Math.min(600000, Math.max(60000, now - first + 10000));
  const box = svg('svg', { width: W, height: H + 18, viewBox: '0 0 ' + W + ' ' + (H + 18), role: 'img' });
  const title = svg('title', {}); title.textContent = app + ': check latency, last ' + ago(span); box.append(title);
  const top = Math.max(1, ...buckets.map((b) => b.maxMs));
  const x = (t) => P + ((t - (now - span)) / span) * (W - 2 * P);
  const y = (ms) => H - P - (ms / top) * (H - 2 * P);
  const mean = buckets.map((b) => x(b.start + 5000).toFixed(1) + ',' + y(b.meanMs).toFixed(1)).join(' ');
  const max = buckets.map((b) => x(b.start + 5000).toFixed(1) + ',' + y(b.maxMs).toFixed(1)).join(' ');
  box.append(svg('polyline', { points: max, fill: 'none', stroke: '#e0a040', 'stroke-width': 1 }));
  box.append(svg('polyline', { points: mean, fill: 'none', stroke: '#3060c0', 'stroke-width': 2 }));
  for (const b of buckets) if (b.failed > 0) box.append(svg('circle', { cx: x(b.start + 5000), cy: H - P, r: 3, fill: '#d04545' }));
  const label = svg('text', { x: P, y: H + 14, 'font-size': 10, fill: '#555' });
  label.textContent = app + ', last ' + ago(span) + ': mean (blue), max (orange), top ' + Math.round(top) + 'ms; red: failures';
  box.append(label);
  return el('div', { class: 'chart' }, box);
}
function render(s, live) {
  const apps = $('apps'); apps.replaceChildren();
  const instances = $('instances'); instances.replaceChildren();
  for (const app of s.apps) {
    const all = app.instances.concat(app.prewarm);
    const count = (st) => all.filter((i) => i.state === st).length;
    apps.append(el('tr', {}, el('td', {}, app.name), el('td', {}, app.desired), el('td', {}, count('healthy') + count('claimed')),
      el('td', {}, count('starting') + count('scheduled')), el('td', {}, app.prewarm.length)));
    for (const i of all) {
      const checks = el('span', { class: 'checks' });
      for (const c of i.checks || []) checks.append(el('span', { class: c.passed ? 'pass' : 'fail', title: c.phase + ' ' + Math.round(c.latencyMs) + 'ms at ' + c.time }));
      instances.append(el('tr', { 'data-instance': i.id }, el('td', {}, i.id), el('td', {}, el('span', { class: 'state ' + i.state }, i.state), i.state === 'healthy' && i.routable === false ? ' unroutable' : ''),
        el('td', {}, ago(s.now - Date.parse(i.since))), el('td', {}, i.restarts), el('td', {}, i.address || ''), el('td', {}, checks)));
    }
  }
  const transitions = $('transitions'); transitions.replaceChildren();
  for (const t of s.transitions.slice().reverse()) {
    transitions.append(el('tr', { class: t.level }, el('td', {}, t.time.slice(11, 23)), el('td', {}, t.instance),
      el('td', {}, (t.from || '·') + ' → ' + t.to), el('td', {}, t.msg + (t.reason ? ' (' + t.reason + ')' : ''))));
  }
  const charts = $('charts'); charts.replaceChildren();
  for (const [app, buckets] of Object.entries(s.latency)) charts.append(chart(app, buckets, s.now));
  // UTC, as the transitions' times are.
  $('conn').textContent = (live ? 'live, updated ' : 'as of ') + new Date(s.now).toISOString().slice(11, 19) + ' UTC' + (live ? '' : ', connecting…');
}
render(JSON.parse($('first').textContent), false);
const events = new EventSource('/events');
events.addEventListener('snapshot', (e) => render(JSON.parse(e.data), true));
events.onerror = () => { $('conn').textContent = 'disconnected, retrying…'; };
`;

const PAGE_HEAD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lifeguard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${STYLE}</style></head>
<body>
<h1>lifeguard</h1><div id="conn">connecting…</div>
<h2>Apps</h2>
<table><thead><tr><th>app</th><th>desired</th><th>healthy</th><th>starting</th><th>prewarm</th></tr></thead><tbody id="apps"></tbody></table>
<h2>Instances</h2>
<table><thead><tr><th>instance</th><th>state</th><th>for</th><th>restarts</th><th>address</th><th>last checks</th></tr></thead><tbody id="instances"></tbody></table>
<h2>Check latency</h2><div id="charts"></div>
<h2>Recent transitions</h2>
<table><thead><tr><th>time (UTC)</th><th>instance</th><th>transition</th><th>message</th></tr></thead><tbody id="transitions"></tbody></table>
`;
const PAGE_TAIL = `<script>${SCRIPT}</script>
</body></html>
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const CSP = `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
