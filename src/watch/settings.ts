/**
 * `lifeguard watch`'s settings: a `watch` section in a JSON or YAML file, flags, or both (a flag wins over the file's
 * field). Both go through one zod schema, so a bad value gets the same one-line usage error (exit 2) whichever
 * way it came, naming the flag or the field path: `--interval: expected a Go duration …` or
 * `watch.retries: expected an integer of at least 1, got 0`. Every default is applied here.
 */
import { z } from 'zod';
import { checkSchema, describeIssue, toCheckSpec } from '../checks/definition.js';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { parseCheckUrl } from '../checks/parse.js';
import type { CheckSpec } from '../checks/types.js';
import { CHECK_DEFAULTS, count, duration, got, nonEmptyString, socketPathSchema } from '../shared/config-fields.js';
import { readConfigFile } from '../shared/config-file.js';
import { checkHttp, httpSchema, type HttpServerConfig } from '../shared/http-config.js';
import { checkRestart, restartSchema, toRestartPolicy } from '../shared/restart-policy.js';
import type { WatchRules } from './container-watch.js';
import type { CheckPlan } from './probe-health.js';
import { DEFAULT_WATCH_LABEL, parseLabelMatch, type Selection } from './selector.js';

type HealthSetting =
  | { readonly kind: 'engine' }
  | { readonly kind: 'native'; readonly plan: CheckPlan }
  | { readonly kind: 'sidecar'; readonly plan: CheckPlan; readonly agentBinary?: string; readonly image?: string };

export interface WatchSettings {
  /** Absent: DOCKER_HOST, else /var/run/docker.sock. */
  readonly socketPath?: string;
  readonly selection: Selection;
  readonly health: HealthSetting;
  readonly rules: WatchRules;
  readonly stopTimeoutMs: number;
  /** GET /status and /metrics; absent: no endpoint. */
  readonly http?: HttpServerConfig;
}

const WATCH_DEFAULTS = {
  intervalMs: 5_000,
  retries: 3,
  checkTimeoutMs: 1_000,
  startGraceMs: 10_000,
  minUnhealthyMs: 0,
  stopTimeoutMs: 10_000,
} as const;

const watchSchema = z.strictObject({
  socketPath: socketPathSchema('/var/run/docker.sock').optional(),
  label: nonEmptyString('a label such as lifeguard.watch=true').optional(),
  all: z.boolean({ error: 'expected true or false' }).optional(),
  project: nonEmptyString('a compose project name').optional(),
  health: z.enum(['engine', 'native', 'sidecar'], { error: 'expected "engine", "native" or "sidecar"' }).default('engine'),
  // URLs as `--check` takes them, or Diego check entries as `lifeguard run`'s apps take them.
  checks: z.array(z.union([z.string(), checkSchema], { error: 'expected a check URL such as http://:8080/health or a tcp_check/http_check entry' }), { error: 'expected an array of checks' }).optional(),
  interval: duration(false).default(WATCH_DEFAULTS.intervalMs),
  retries: count(1).default(WATCH_DEFAULTS.retries),
  timeout: duration(false).default(WATCH_DEFAULTS.checkTimeoutMs),
  action: z.enum(['restart', 'stop'], { error: 'expected "restart" or "stop"' }).default('restart'),
  minUnhealthy: duration(true).default(WATCH_DEFAULTS.minUnhealthyMs),
  startGrace: duration(true).default(WATCH_DEFAULTS.startGraceMs),
  stopTimeout: duration(true).default(WATCH_DEFAULTS.stopTimeoutMs),
  restart: restartSchema.prefault({}),
  dryRun: z.boolean({ error: 'expected true or false' }).default(false),
  agentBinary: nonEmptyString('the path of the single executable (dist/healthcheck)').optional(),
  sidecarImage: nonEmptyString('an image reference').optional(),
  http: httpSchema.optional(),
}, { error: 'expected an object' });

type RawWatch = z.infer<typeof watchSchema>;
type Fail = (path: PropertyKey[], message: string) => void;

const settingsSchema = watchSchema.transform((raw, ctx): WatchSettings => {
  const fail: Fail = (path, message) => ctx.addIssue({ code: 'custom', path, message });
  const selection = toSelection(raw, fail);
  const checks = (raw.checks ?? []).flatMap((entry, i) => {
    const spec = toCheck(entry, raw.timeout, (message) => fail(['checks', i], message));
    return spec === undefined ? [] : [spec];
  });
  if (raw.health === 'engine' && raw.checks !== undefined) fail(['checks'], 'only for health "native" or "sidecar" (the engine runs its own HEALTHCHECK)');
  if (raw.health !== 'engine' && (raw.checks ?? []).length === 0) fail(['checks'], `required by health "${raw.health}"`);
  if (raw.health !== 'sidecar') {
    for (const key of ['agentBinary', 'sidecarImage'] as const) if (raw[key] !== undefined) fail([key], 'only for health "sidecar"');
  }
  checkRestart(raw.restart, (path, message) => fail(['restart', ...path], message));
  if (raw.http !== undefined) checkHttp(raw.http, fail);
  const plan: CheckPlan = { checks, intervalMs: raw.interval, retries: raw.retries };
  const health: HealthSetting =
    raw.health === 'engine'
      ? { kind: 'engine' }
      : raw.health === 'native'
        ? { kind: 'native', plan }
        : { kind: 'sidecar', plan, ...(raw.agentBinary === undefined ? {} : { agentBinary: raw.agentBinary }), ...(raw.sidecarImage === undefined ? {} : { image: raw.sidecarImage }) };
  const restart = toRestartPolicy(raw.restart);
  return {
    ...(raw.socketPath === undefined ? {} : { socketPath: raw.socketPath }),
    selection,
    health,
    rules: { action: raw.action, minUnhealthyMs: raw.minUnhealthy, startGraceMs: raw.startGrace, restart, dryRun: raw.dryRun },
    stopTimeoutMs: raw.stopTimeout,
    ...(raw.http === undefined ? {} : { http: raw.http }),
  };
});

function toSelection(raw: RawWatch, fail: Fail): Selection {
  const project = raw.project === undefined ? {} : { project: raw.project };
  if (raw.all === true) {
    if (raw.label !== undefined) fail(['all'], 'give a label or all, not both');
    return project;
  }
  if (raw.label === undefined) return { label: DEFAULT_WATCH_LABEL, ...project };
  const label = parseLabelMatch(raw.label);
  if (label === undefined) fail(['label'], `expected key=value or key${got(raw.label)}`);
  return { ...(label === undefined ? {} : { label }), ...project };
}

function toCheck(entry: string | z.infer<typeof checkSchema>, timeoutMs: number, fail: (message: string) => void): CheckSpec | undefined {
  if (typeof entry !== 'string') return toCheckSpec(entry, CHECK_DEFAULTS);
  let spec: CheckSpec;
  try {
    spec = parseCheckUrl('check', entry, { ...CHECK_DEFAULTS, timeoutMs });
  } catch (thrown) {
    fail(thrown instanceof LifeguardFailure ? thrown.message.replace(/^invalid check /, 'invalid ') : String(thrown));
    return undefined;
  }
  // The container's own address is where a check goes; a host here would aim it somewhere else.
  if (spec.host !== undefined) fail(`expected no host (the container's address is used), such as http://:8080/health${got(entry)}`);
  return spec;
}

/** What the flags said, under the config's field names, and every field's flag, for error lines. */
export interface FlagValues {
  readonly values: Readonly<Record<string, unknown>>;
  readonly flagOf: Readonly<Record<string, string>>;
}

/** A library user's: settings from an object alone. */
const NO_FLAGS: FlagValues = { values: {}, flagOf: {} };

/**
 * The settings from a file's `watch` section (undefined: no file) and the flags. The flags win field by field;
 * a selection given by flag (`--label` or `--all`) replaces the file's whole.
 */
export function parseWatchSettings(section: unknown, flags: FlagValues = NO_FLAGS): WatchSettings {
  if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section))) {
    throw watchError('watch: expected an object');
  }
  const fromFile = { ...(section as Record<string, unknown> | undefined) };
  if ('label' in flags.values || 'all' in flags.values) {
    delete fromFile.label;
    delete fromFile.all;
  }
  const merged = { ...fromFile, ...flags.values };
  const parsed = settingsSchema.safeParse(merged, { reportInput: true });
  if (parsed.success) return parsed.data;
  const [field] = parsed.error.issues[0]?.path ?? [];
  // Named as the flag when it came from one, or when there is no file it could have come from.
  const flag = typeof field === 'string' && (field in flags.values || section === undefined) ? flags.flagOf[field] : undefined;
  const line = describeIssue(parsed.error);
  if (flag === undefined) throw watchError(`watch.${line}`);
  throw new LifeguardFailure(usageError(line.replace(/^[^:]*/, flag)));
}

/** The `watch` section of a JSON or YAML file (read as `lifeguard run`'s config is); the file may hold nothing else. */
export async function readWatchFile(path: string): Promise<unknown> {
  const { json } = await readConfigFile(path);
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('watch' in json)) throw watchError(`'${path}': expected a JSON or YAML object with "watch"`);
  const extra = Object.keys(json).find((key) => key !== 'watch');
  if (extra !== undefined) throw watchError(`${extra}: unknown field (a watch file holds only "watch")`);
  return (json as { watch: unknown }).watch;
}

function watchError(detail: string): LifeguardFailure {
  return new LifeguardFailure(usageError(`config: ${detail}`));
}
