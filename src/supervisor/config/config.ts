/**
 * The config file `lifeguard run` reads (README "Config reference"), validated up front with zod so that a typo stops
 * the supervisor before it starts anything, with one line that names the field path:
 * `config: apps[0].restart.backoffMin: expected a Go duration such as 500ms, 2s or 1m30s, got "5"`.
 * Every default is applied here; the supervisor only ever sees complete AppSpecs.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { checkSchema, describeIssue, entryCheck, parseCheckDefinition, port, type CheckEntry } from '../../checks/definition.js';
import { LifeguardFailure, usageError } from '../../checks/errors.js';
import { limitsSchema, toCgroupLimits } from '../host/cgroup.js';
import { DEFAULT_CHECK_HISTORY } from '../app/history.js';
import { outputSchema } from '../host/output.js';
import { rolloutSchema } from '../app/rollout.js';
import type { SupervisorOptions } from './options.js';
import type { AppSpec, RoutingPlan } from '../spec/types.js';
import type { AppUser } from '../../shared/users.js';
import { lookupUser } from '../../shared/users.js';
import { CHECK_DEFAULTS, count, duration, type Fail, got, nonEmptyString, socketPathSchema } from '../../shared/config-fields.js';
import { type Locate, readConfigFile } from '../../shared/config-file.js';
import { checkHttp, httpSchema, type HttpServerConfig } from '../../shared/http-config.js';
import { checkRestart, RESTART_DEFAULTS, restartSchema, toRestartPolicy } from '../../shared/restart-policy.js';
import { nearMiss } from '../../checks/near-miss.js';

export interface LifeguardConfig {
  readonly supervisor: SupervisorOptions;
  /** Absent: no endpoint (off unless configured). */
  readonly http?: HttpServerConfig;
}

/** What an app gets for each field it leaves out. Durations in ms. */
export const APP_DEFAULTS = {
  // One, not three: an operator who writes no count expects one process, as `cf push`
  // and Diego's DesiredLRP give; asking for more is one field away, and silently tripling a workload is not.
  instances: 1,
  startupTimeoutMs: 60_000,
  startupIntervalMs: 2_000,
  livenessIntervalMs: 30_000,
  probe: 'sidecar',
  driver: 'process',
  gracePeriodMs: 10_000,
  prewarm: 0,
  restart: RESTART_DEFAULTS,
} as const satisfies Partial<AppSpec>;

/** An app's `routing` section, field by field. Durations in ms. */
const ROUTING_DEFAULTS = { intervalMs: 2_000, failureThreshold: 1, successThreshold: 1, drainMs: 0 } as const;

const DEFAULT_STATE_DIR = '.lifeguard';

// Usable as a URL path segment (POST /apps/<name>/claim), a file name in the state directory and a container name.
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
// What execve and a process environment accept as a variable name.
const ENV_NAME = /^[^=\0]+$/;
// execve takes C strings: a NUL would make spawn() throw, quoting the whole environment in its message.
const NO_NUL = /^[^\0]*$/;
const NUL_ERROR = 'expected a string without NUL characters';

const checkList = z.array(checkSchema, { error: 'expected an array of checks' });

// Checks that decide whether a healthy instance is routable (README "Routing"), and the drain of a requested destroy.
const routingSchema = z.strictObject({
  checks: checkList.default([]),
  interval: duration(false).optional(),
  failureThreshold: count(1).default(ROUTING_DEFAULTS.failureThreshold),
  successThreshold: count(1).default(ROUTING_DEFAULTS.successThreshold),
  drain: duration(true).default(ROUTING_DEFAULTS.drainMs),
}, { error: 'expected an object' });

const appSchema = z.strictObject({
  name: z.string({ error: 'expected a name' }).regex(APP_NAME, {
    error: 'expected 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
  }),
  // An argv array, never a shell string: no quoting rules to get wrong, no shell between us and the signal.
  command: z
    .array(nonEmptyString('a non-empty string').regex(NO_NUL, { error: NUL_ERROR }), { error: 'expected an array of strings such as ["node", "app.mjs"]' })
    .min(1, { error: 'expected at least the program to run' })
    .optional(),
  image: nonEmptyString('an image reference').optional(),
  // Relative to the config file's directory, which is also the default: a config and its app travel together.
  cwd: nonEmptyString('a directory').regex(NO_NUL, { error: NUL_ERROR }).optional(),
  // A value, or {"fromEnv": "NAME"}: that variable of the supervisor's own environment, read when the config is.
  env: z
    .record(
      z.string().regex(ENV_NAME),
      z.union([
        z.string().regex(NO_NUL, { error: NUL_ERROR }),
        z.strictObject({ fromEnv: z.string().regex(ENV_NAME, { error: 'expected a variable name without "="' }) }),
      ], { error: 'expected a string, or {"fromEnv": "NAME"}' }),
      { error: (issue) => (issue.code === 'invalid_key' ? 'expected a variable name without "="' : 'expected an object of strings') },
    )
    .default({}),
  // Run as this user (a name or uid of /etc/passwd, with its primary group); only a supervisor running as root can.
  user: nonEmptyString('a user name or uid').optional(),
  instances: count(0).default(APP_DEFAULTS.instances),
  ports: z.array(port, { error: 'expected an array of port numbers' }).min(1, { error: 'expected at least one port' }).optional(),
  // Diego's own field names, so that a CheckDefinition's lists paste in unchanged.
  checks: checkList.min(1, { error: 'expected at least one check' }),
  readiness_checks: checkList.optional(),
  startTimeout: duration(true).optional(),
  startupInterval: duration(false).optional(),
  // Passes in a row before a readiness check counts as passed (Consul's success_before_passing).
  successThreshold: count(1).optional(),
  livenessInterval: duration(false).optional(),
  probe: z.enum(['sidecar', 'native', 'oneshot'], { error: 'expected "sidecar", "native" or "oneshot"' }).default(APP_DEFAULTS.probe),
  driver: z.enum(['process', 'netns', 'docker'], { error: 'expected "process", "netns" or "docker"' }).default(APP_DEFAULTS.driver),
  gracePeriod: duration(true).default(APP_DEFAULTS.gracePeriodMs),
  prewarm: count(0).default(APP_DEFAULTS.prewarm),
  restart: restartSchema.prefault({}),
  rollout: rolloutSchema.prefault({}),
  limits: limitsSchema.optional(),
  output: outputSchema.prefault({}),
  // Probe rounds kept per instance for /status and the status page (Docker keeps 5).
  checkHistory: count(1).max(1000, { error: 'expected an integer of at most 1000' }).default(DEFAULT_CHECK_HISTORY),
  routing: routingSchema.optional(),
}, { error: 'expected an object' });

type RawApp = z.infer<typeof appSchema>;
type ResolvedApp = Omit<RawApp, 'env'> & { readonly env: Readonly<Record<string, string>> };

// The docker driver's engine and sidecars (DockerSettings); absent fields take dockerode's and the driver's defaults.
const dockerSchema = z.strictObject({
  socketPath: socketPathSchema('/run/podman/podman.sock').optional(),
  agentBinary: nonEmptyString('the path of the single executable (dist/healthcheck)').optional(),
  sidecarImage: nonEmptyString('an image reference').optional(),
}, { error: 'expected an object' });

// The rules that span fields run in a transform, which zod runs only once every field is well-formed.
const configSchema = z.strictObject({
  apps: z.array(appSchema, { error: 'expected an array of apps' }).min(1, { error: 'expected at least one app' }),
  http: httpSchema.optional(),
  docker: dockerSchema.optional(),
  stateDir: nonEmptyString('a directory').default(DEFAULT_STATE_DIR),
  // Sidecar agents booting at once on this host; absent: 2 per core.
  agentStartConcurrency: count(1).optional(),
}, { error: 'expected an object' });

/** Where the config's relative paths start (the config file's directory), and whose environment `fromEnv` reads. */
export interface ConfigContext {
  readonly baseDir?: string;
  /**
   * Where `fromEnv` values are read; 'deferred': not here, by the supervisor the config is sent to (`lifeguard
   * apply`'s client checks their names only, and needs no secret in its own environment).
   */
  readonly env?: NodeJS.ProcessEnv | 'deferred';
  /** Overrides the file's stateDir (`--state-dir`); relative to the working directory, as a command-line path. */
  readonly stateDir?: string;
}

/** Variables lifeguard sets itself; an app's env that names one would be overwritten, so it is refused. */
const RESERVED_ENV = /^(PORT|PORT_\d+|LIFEGUARD_INSTANCE|LIFEGUARD_STATE_DIR)$/;

/** The schema's rules that span fields, and the paths resolved against the context. */
const configWithin = ({ baseDir, env = process.env, stateDir }: ConfigContext) => configSchema.transform((config, ctx): LifeguardConfig => {
  const fail: Fail = (path, message) => ctx.addIssue({ code: 'custom', path, message });
  const names = new Set<string>();
  const envs: Record<string, string>[] = [];
  const users: (AppUser | undefined)[] = [];
  config.apps.forEach((app, i) => {
    if (names.has(app.name)) fail(['apps', i, 'name'], `duplicate app name${got(app.name)}`);
    names.add(app.name);
    checkApp(app, (path, message) => fail(['apps', i, ...path], message));
    envs.push(resolveEnv(app.env, env, (path, message) => fail(['apps', i, 'env', ...path], message)));
    users.push(app.user === undefined ? undefined : resolveUser(app.user, (message) => fail(['apps', i, 'user'], message)));
  });
  if (config.http !== undefined) checkHttp(config.http, fail);
  const within = (path: string) => (baseDir === undefined ? path : resolve(baseDir, path));
  const docker = config.docker?.agentBinary === undefined ? config.docker : { ...config.docker, agentBinary: within(config.docker.agentBinary) };
  return {
    supervisor: {
      apps: config.apps.map((app, i) => toAppSpec({ ...app, env: envs[i] ?? {} }, app.cwd === undefined ? baseDir : within(app.cwd), users[i])),
      stateDir: stateDir === undefined ? within(config.stateDir) : resolve(stateDir),
      ...(docker === undefined ? {} : { docker }),
      ...(config.agentStartConcurrency === undefined ? {} : { tuning: { agentStartConcurrency: config.agentStartConcurrency } }),
    },
    ...(config.http === undefined ? {} : { http: config.http }),
  };
});

function checkApp(app: RawApp, fail: Fail): void {
  if (app.driver === 'docker') {
    if (app.image === undefined) fail(['image'], 'required by the docker driver');
  } else {
    if (app.command === undefined) fail(['command'], `required by the ${app.driver} driver`);
    if (app.image !== undefined) fail(['image'], 'only the docker driver runs images');
  }
  if (app.driver === 'docker' && app.limits !== undefined) fail(['limits'], 'only the process and netns drivers apply limits');
  app.ports?.forEach((p, j) => {
    if (app.ports?.indexOf(p) !== j) fail(['ports', j], `duplicate port${got(p)}`);
  });
  // Routing checks always run in the supervisor (native), whatever the probe: an agent never carries them.
  const lists: readonly [readonly string[], readonly CheckEntry[] | undefined, boolean][] = [
    [['checks'], app.checks, app.probe !== 'native'],
    [['readiness_checks'], app.readiness_checks, app.probe !== 'native'],
    [['routing', 'checks'], app.routing?.checks, false],
  ];
  for (const [path, entries, byAgent] of lists) {
    entries?.forEach((entry, j) => {
      const { kind, port: checkPort } = entryCheck(entry);
      if (app.ports !== undefined && !app.ports.includes(checkPort)) {
        fail([...path, j, kind, 'port'], `expected one of the app's ports (${app.ports.join(', ')})${got(checkPort)}`);
      }
      const lost = notInCheckUrl(entry);
      if (byAgent && lost !== undefined) {
        fail([...path, j, kind, lost], `needs "probe": "native" (sidecar and oneshot agents are given the check as a --check URL, which cannot carry it)`);
      }
    });
  }
  checkRestart(app.restart, (path, message) => fail(['restart', ...path], message));
  if (app.rollout.maxSurge === 0 && app.rollout.maxUnavailable === 0) fail(['rollout'], 'maxSurge and maxUnavailable cannot both be 0 (a roll could then never start a replacement nor stop an instance)');
}

/** Each value as given, or read from `from` (the supervisor's environment), or left out when deferred; reserved and unset names are refused. */
function resolveEnv(entries: RawApp['env'], from: NodeJS.ProcessEnv | 'deferred', fail: Fail): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(entries)) {
    if (RESERVED_ENV.test(name)) {
      fail([name], 'set by lifeguard for every instance (PORT, PORT_<n>, LIFEGUARD_INSTANCE, LIFEGUARD_STATE_DIR); give the app another name');
      continue;
    }
    if (typeof value === 'string') {
      resolved[name] = value;
      continue;
    }
    if (from === 'deferred') continue;
    const passed = from[value.fromEnv];
    if (passed === undefined) fail([name, 'fromEnv'], `${value.fromEnv} is not set in lifeguard's environment`);
    else if (passed.includes('\0')) fail([name, 'fromEnv'], NUL_ERROR);
    else resolved[name] = passed;
  }
  return resolved;
}

/** A user of /etc/passwd by name or uid, for a supervisor that runs as root. */
function resolveUser(user: string, fail: (message: string) => void): AppUser | undefined {
  if (process.getuid?.() !== 0) {
    fail('only a supervisor running as root can run apps as another user');
    return undefined;
  }
  const found = lookupUser(user);
  if (found === undefined) fail(`no such user in /etc/passwd${got(user)}`);
  return found;
}

function entryPort(entry: CheckEntry): number {
  return entryCheck(entry).port;
}

/**
 * The first extension field of an entry that a `--check` URL cannot carry (a scheme says https or grpcs, a path
 * the gRPC service; TLS files, assertions and a connect deadline it cannot), or undefined.
 */
function notInCheckUrl(entry: CheckEntry): string | undefined {
  const check = entry.http_check ?? entry.grpc_check;
  if (check === undefined) return undefined;
  if (check.tls !== undefined && Object.keys(check.tls).length > 0) return 'tls';
  const carried = new Set(['port', 'path', 'service', 'request_timeout_ms', 'interval_ms', 'tls']);
  return Object.keys(check).find((key) => !carried.has(key));
}

function toAppSpec(app: ResolvedApp, cwd: string | undefined, user: AppUser | undefined): AppSpec {
  const definition = parseCheckDefinition(
    { checks: app.checks, ...(app.readiness_checks === undefined ? {} : { readiness_checks: app.readiness_checks }) },
    CHECK_DEFAULTS,
    `apps '${app.name}' checks`,
  );
  // Without `ports`, the app listens where its checks look: container ports in the order the checks name them.
  const ports = app.ports ?? [...new Set([...app.checks, ...(app.readiness_checks ?? []), ...(app.routing?.checks ?? [])].map(entryPort))];
  return {
    name: app.name,
    ...(app.command === undefined ? {} : { command: app.command }),
    ...(cwd === undefined || app.driver === 'docker' ? {} : { cwd }),
    ...(user === undefined ? {} : { user }),
    ...(app.image === undefined ? {} : { image: app.image }),
    env: app.env,
    instances: app.instances,
    ports,
    checks: definition.checks,
    readinessChecks: definition.readinessChecks,
    startupTimeoutMs: app.startTimeout ?? APP_DEFAULTS.startupTimeoutMs,
    // An interval the app names wins; else the checks' own interval_ms (Diego's per-check setting); else the default.
    startupIntervalMs: app.startupInterval ?? definition.readinessIntervalMs ?? APP_DEFAULTS.startupIntervalMs,
    ...(app.successThreshold === undefined ? {} : { successThreshold: app.successThreshold }),
    livenessIntervalMs: app.livenessInterval ?? definition.checksIntervalMs ?? APP_DEFAULTS.livenessIntervalMs,
    probe: app.probe,
    driver: app.driver,
    gracePeriodMs: app.gracePeriod,
    prewarm: app.prewarm,
    restart: toRestartPolicy(app.restart),
    rollout: { maxSurge: app.rollout.maxSurge, maxUnavailable: app.rollout.maxUnavailable },
    output: { to: app.output.to, maxBytes: app.output.maxSize },
    checkHistory: app.checkHistory,
    ...(app.routing === undefined ? {} : { routing: toRoutingPlan(app.name, app.routing) }),
    ...(app.limits === undefined ? {} : { limits: toCgroupLimits(app.limits) }),
  };
}

function toRoutingPlan(name: string, routing: NonNullable<RawApp['routing']>): RoutingPlan {
  const definition = parseCheckDefinition({ checks: routing.checks }, CHECK_DEFAULTS, `apps '${name}' routing checks`);
  return {
    checks: definition.checks,
    intervalMs: routing.interval ?? definition.checksIntervalMs ?? ROUTING_DEFAULTS.intervalMs,
    failureThreshold: routing.failureThreshold,
    successThreshold: routing.successThreshold,
    drainMs: routing.drain,
  };
}

/**
 * Validates parsed JSON; throws LifeguardFailure (a usage error, exit 2) naming the first bad field. With
 * `baseDir`, stateDir, each app's cwd (default: baseDir itself) and docker.agentBinary are resolved against it.
 */
export function parseConfig(json: unknown, context: ConfigContext = {}, locate?: Locate): LifeguardConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw configError('expected a JSON or YAML object with "apps"');
  const parsed = configWithin(context).safeParse(json, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = locate?.(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path);
  const meant = issue.code === 'unrecognized_keys' ? nearMiss(issue.keys[0]!, fieldsAt(configSchema, issue.path)) : undefined;
  throw configError(`${where === undefined ? '' : `${where}: `}${describeIssue(withoutSecrets(parsed.error))}${meant === undefined ? '' : ` (did you mean '${meant}'?)`}`);
}

/**
 * Reads and validates a config file: YAML when its name ends in .yaml or .yml (the same schema; errors say the
 * line and column), JSON otherwise. Unreadable files and bad syntax are usage errors too.
 */
export async function loadConfig(path: string, context: Omit<ConfigContext, 'baseDir'> = {}): Promise<LifeguardConfig> {
  const { json, locate } = await readConfigFile(path);
  return parseConfig(json, { ...context, baseDir: dirname(resolve(path)) }, locate);
}

/** The fields an object of the schema at `path` knows (walking objects, arrays and records); none where it is not one object. */
function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  interface Def { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType }
  const defOf = (node: z.ZodType | undefined): Def | undefined => (node as { _zod?: { def: Def } } | undefined)?._zod?.def;
  // Through optional(), default(), prefault() and transforms to what they wrap; bounded by the schema's depth.
  const unwrap = (node: z.ZodType | undefined): z.ZodType | undefined => {
    for (let def = defOf(node); def !== undefined && (def.innerType !== undefined || def.type === 'pipe'); def = defOf(node)) node = def.innerType ?? def.in;
    return node;
  };
  let node = unwrap(schema);
  for (const key of path) {
    const def = defOf(node);
    node = unwrap(def?.type === 'object' ? def.shape?.[String(key)] : def?.type === 'array' ? def.element : def?.type === 'record' ? def.valueType : undefined);
  }
  const def = defOf(node);
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/**
 * Environment values are often secrets: an error names the field, never quotes it. A quoted object or array
 * (`apps: expected an array, got {...}`) could hold an env too, so only scalars outside `env` are quoted; and a
 * variable "name" with `=` in it is most likely `NAME=value` written as a name, so it is cut at the `=`.
 */
function withoutSecrets(error: z.ZodError): z.ZodError {
  for (const issue of error.issues) {
    const env = issue.path.findIndex((key, i) => key === 'env' && issue.path[i - 2] === 'apps');
    if (env >= 0 || (typeof issue.input === 'object' && issue.input !== null)) delete (issue as { input?: unknown }).input;
    if (env >= 0) (issue as { path: PropertyKey[] }).path = issue.path.map((key, i) => (i > env && typeof key === 'string' ? key.replace(/=.*/s, '=...') : key));
  }
  return error;
}

function configError(detail: string): LifeguardFailure {
  return new LifeguardFailure(usageError(`config: ${detail}`));
}
