/**
 * `lifeguard status`: a running supervisor's GET /status, fetched within a hard deadline, and what an operator
 * reads from it — a table of apps and instances, and whether every app has its desired count healthy (so that
 * the command can serve as a check itself).
 */
import { request } from 'node:http';
import { Deadline } from '../checks/deadline.js';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { formatAddress } from '../checks/errors.js';
import { expectedListenAddress, parseListenAddress } from '../shared/listen-address.js';
import type { AppStatus, ContainmentStatus, ServedState, SupervisorStatus } from '../shared/status.js';

export interface StatusQuery {
  /** `host:port` of the supervisor's http.listen. */
  readonly endpoint: string;
  readonly token?: string;
  /** The whole request, connect to last byte. */
  readonly timeoutMs: number;
}

/** What `lifeguard status` reads of GET /status, checked, so that a wrong endpoint is one clear line. */
export async function fetchStatus(query: StatusQuery): Promise<SupervisorStatus<ServedState>> {
  // localhost is loopback's name; the supervisor only ever listens on addresses.
  const address = parseListenAddress(query.endpoint.replace(/^localhost:/i, '127.0.0.1:'));
  if (address === undefined) throw new LifeguardFailure(usageError(`--endpoint '${query.endpoint}': ${expectedListenAddress(true)}`));
  const where = formatAddress(address.host, address.port);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers = query.token === undefined ? {} : { Authorization: `Bearer ${query.token}` };
    const req = request({ host: address.host, port: address.port, path: '/status', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    const deadline = new Deadline(query.timeoutMs, () => req.destroy(new Error(`no answer within ${query.timeoutMs}ms`)));
    req.on('close', () => deadline.finish());
    req.on('error', reject);
    req.end();
  }).catch((error: NodeJS.ErrnoException) => {
    throw unreachable(where, error.code ?? error.message);
  });
  if (status === 401) throw unreachable(where, query.token === undefined ? 'the endpoint wants a bearer token: --token, or LIFEGUARD_TOKEN' : 'the endpoint rejected the bearer token given (--token, or LIFEGUARD_TOKEN)');
  if (status !== 200) throw unreachable(where, `GET /status answered ${status}`);
  try {
    const parsed = JSON.parse(body) as SupervisorStatus<ServedState>;
    if (!Array.isArray(parsed.apps)) throw new Error('no apps');
    return parsed;
  } catch {
    throw unreachable(where, 'GET /status did not answer a lifeguard status');
  }
}

export interface AppSummary {
  readonly name: string;
  readonly desired: number;
  /** Members (not prewarm, not claimed) in state healthy. */
  readonly healthy: number;
}

export function summarize(app: AppStatus<ServedState>): AppSummary {
  return { name: app.name, desired: app.desired, healthy: app.instances.filter((i) => i.state === 'healthy').length };
}

/**
 * What makes `lifeguard status` exit 1, one line per app: fewer healthy instances than desired, or a roll that
 * halted (the app may look whole, on its old version, while its new one never became healthy).
 */
export function statusProblems(apps: readonly AppStatus<ServedState>[]): string[] {
  return apps.flatMap((app) => {
    const { healthy, desired } = summarize(app);
    return [
      ...(healthy < desired ? [`${app.name}: ${healthy}/${desired} healthy`] : []),
      ...(app.rollout?.state === 'halted' ? [`${app.name}: roll halted`] : []),
    ];
  });
}

/** The apps asked for: one by name (a usage error when there is none), or all. */
export function selectApps(status: SupervisorStatus<ServedState>, app: string | undefined): readonly AppStatus<ServedState>[] {
  if (app === undefined) return status.apps;
  const found = status.apps.filter((a) => a.name === app);
  if (found.length === 0) throw new LifeguardFailure(usageError(`no app named '${app}' (there are: ${status.apps.map((a) => a.name).join(', ') || 'none'})`));
  return found;
}

/** Two tables, apps then instances, in columns; then which containment and which config file are in force. */
export function renderStatus(apps: readonly AppStatus<ServedState>[], { containment, config }: Pick<SupervisorStatus<ServedState>, 'containment' | 'config'> = {}): string {
  const appRows = apps.map((app) => {
    const { healthy, desired } = summarize(app);
    const state = healthy >= desired ? 'ok' : 'BELOW DESIRED';
    return [app.name, `${healthy}/${desired}`, app.rollout === undefined ? state : `${state}, ${describeRollout(app.rollout)}`, String(app.prewarm.length)];
  });
  const instanceRows = apps.flatMap((app) =>
    [...app.instances, ...app.prewarm].map((i) => [i.id, app.name, app.prewarm.includes(i) ? `${i.state} (prewarm)` : i.state, i.address ?? '-', i.pid === null ? '-' : String(i.pid), String(i.restarts), i.since]),
  );
  const tables = `${columns([['APP', 'HEALTHY', 'STATUS', 'PREWARM'], ...appRows])}\n${columns([['INSTANCE', 'APP', 'STATE', 'ADDRESS', 'PID', 'RESTARTS', 'SINCE'], ...instanceRows])}`;
  const footer = [...(containment === undefined ? [] : [`containment: ${describeContainment(containment)}`]), ...(config === undefined ? [] : [`config: ${config} (what SIGHUP reloads)`])];
  return footer.length === 0 ? tables : `${tables}\n${footer.join('\n')}\n`;
}

/** `cgroup v1 at <path> (limits: memory, cpu, pids)`, or the marker and why. */
function describeContainment(containment: ContainmentStatus): string {
  if (containment.kind === 'environ') return `environment marker only (no cgroup: ${containment.reason ?? 'unknown'})`;
  const at = containment.path === undefined ? '' : ` at ${containment.path}`;
  const limits = containment.controllers === undefined ? '' : ` (limits: ${containment.controllers.join(', ') || 'none'})`;
  return `${containment.kind}${at}${limits}`;
}

function describeRollout(rollout: NonNullable<AppStatus['rollout']>): string {
  const progress = `${rollout.updated} updated, ${rollout.outdated} outdated`;
  return rollout.state === 'rolling' ? `rolling (${progress})` : `ROLL HALTED (${progress}): ${rollout.reason ?? 'unknown'}`;
}

function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}

function unreachable(where: string, why: string): LifeguardFailure {
  return new LifeguardFailure(usageError(`status: cannot read lifeguard's status at ${where}: ${why}`));
}
