/**
 * A running `lifeguard run` taking a config: its own file again on SIGHUP, or the one `lifeguard apply` left in
 * its state directory (src/cli/apply-mailbox.ts). Either is loaded and validated whole, then applied; an
 * invalid one changes nothing. What happened is one line on stderr (stdout is the transition log's), and the
 * answer `lifeguard apply` waits for.
 */
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { asLifeguardError, LifeguardFailure, usageError } from '../checks/errors.js';
import { answer, takeRequests, type ApplyAnswer } from './apply-mailbox.js';
import { loadConfig, type ConfigContext, type LifeguardConfig } from '../supervisor/config/config.js';
import type { AppliedChange, Supervisor } from '../supervisor/supervisor.js';

export class Reloader {
  /** The file a plain SIGHUP reloads, absolute: the one `run` was given, then the last one applied. */
  private configPath: string;
  private readonly http: LifeguardConfig['http'];
  /** How `run` read its config (a --state-dir given), for reading the same file again. */
  private readonly context: Pick<ConfigContext, 'stateDir'>;
  private readonly stateDir: string;

  constructor(
    private readonly supervisor: Supervisor,
    started: { readonly configPath: string; readonly config: LifeguardConfig; readonly context: Pick<ConfigContext, 'stateDir'> },
    private readonly report: (line: string) => void,
  ) {
    this.configPath = resolve(started.configPath);
    this.http = started.config.http;
    this.context = started.context;
    this.stateDir = started.config.supervisor.stateDir;
  }

  /** What `lifeguard status` names as the config in force. */
  get currentFile(): string {
    return this.configPath;
  }

  /** Applies every pending `lifeguard apply` request in order, or else this supervisor's own config file again. */
  async reload(): Promise<void> {
    const requests = takeRequests(this.stateDir);
    // An apply found this supervisor through its state directory: the config is read with that directory.
    if (requests.length === 0) return void (await this.applyFile(this.configPath, this.context));
    for (const request of requests) answer(this.stateDir, request.id, await this.applyFile(request.config, { stateDir: this.stateDir }));
  }

  private async applyFile(path: string, context: Pick<ConfigContext, 'stateDir'>): Promise<ApplyAnswer> {
    try {
      const config = await loadConfig(path, context);
      // The endpoint is bound before the supervisor starts and outlives every apply.
      if (!isDeepStrictEqual(config.http, this.http)) throw new LifeguardFailure(usageError('http cannot change while lifeguard runs; restart it to change http'));
      const changes = await this.supervisor.apply(config.supervisor);
      this.configPath = path;
      this.report(`lifeguard: applied ${path}: ${describeChanges(changes)}`);
      return { ok: true, changes };
    } catch (thrown) {
      const error = `${path} not applied, nothing changed: ${asLifeguardError(thrown).message}`;
      this.report(`lifeguard: ${error}`);
      return { ok: false, error };
    }
  }
}

/** `web rolling, api added, old removed` (unchanged apps named last, together). */
export function describeChanges(changes: readonly AppliedChange[]): string {
  const changed = changes.filter((c) => c.change !== 'unchanged').map((c) => `${c.app} ${c.change}`);
  const unchanged = changes.filter((c) => c.change === 'unchanged').map((c) => c.app);
  return [...changed, ...(unchanged.length === 0 ? [] : [`${unchanged.join(', ')} unchanged`])].join(', ') || 'no apps';
}
