/**
 * The supervisor's command line (`lifeguard run CONFIG.json`, `lifeguard validate CONFIG.json`, `lifeguard watch
 * [flags]`), parsed with commander. Parsing runs nothing, so it is testable alone; src/cli/lifeguard-main.ts acts on the result.
 */
import { Command, CommanderError } from 'commander';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { invalidValue, parseDurationValue } from '../checks/parse.js';
import { VERSION } from '../checks/version.js';
import type { LogFormat } from '../supervisor/serve/transition-log.js';
import type { FlagValues } from '../watch/settings.js';
import type { Told } from './invocation.js';

export type LifeguardInvocation =
  | { readonly kind: 'print'; readonly told: Told }
  | { readonly kind: 'validate'; readonly configPath: string; readonly stateDir?: string }
  | {
      readonly kind: 'apply';
      readonly configPath: string;
      /** Overrides the config's stateDir: where the running supervisor is found. */
      readonly stateDir?: string;
      /** How long to wait for the supervisor's answer. */
      readonly timeoutMs: number;
    }
  | {
      readonly kind: 'run';
      readonly configPath: string;
      /** Overrides the config's stateDir. */
      readonly stateDir?: string;
      readonly logFormat: LogFormat;
      /** Stop on our own after this long, as if sent SIGTERM; undefined: run until a signal. */
      readonly durationMs?: number;
    }
  | {
      readonly kind: 'status';
      /** One app, or every app. */
      readonly app?: string;
      /** host:port of the supervisor's http.listen. */
      readonly endpoint: string;
      readonly token?: string;
      readonly json: boolean;
    }
  | {
      readonly kind: 'watch';
      /** A JSON file with a `watch` section; its fields are the flags' defaults. */
      readonly configPath?: string;
      /** Validated later, with the file's section (see src/watch/settings.ts). */
      readonly flags: FlagValues;
      readonly logFormat: LogFormat;
      readonly durationMs?: number;
    };

/** `watch`'s flags and the settings field each one sets; the field's value is validated with the file's. */
const WATCH_FLAGS = [
  ['--socket <path>', 'socketPath', 'the Docker Engine API socket: a path, or unix:///path (default: DOCKER_HOST, else /var/run/docker.sock)'],
  ['--label <key[=value]>', 'label', 'watch containers carrying this label (default: lifeguard.watch=true)'],
  ['--all', 'all', 'watch every container instead (lifeguard\'s own excepted)'],
  ['--project <name>', 'project', 'only containers of this compose project'],
  ['--health <source>', 'health', 'engine (the HEALTHCHECK status; default), native (checks run here) or sidecar'],
  ['--check <url>', 'checks', 'for native or sidecar health, such as http://:8080/health or tcp://:5432 (repeatable)'],
  ['--interval <duration>', 'interval', 'between check rounds (default 5s)'],
  ['--retries <n>', 'retries', 'failures in a row that make a container unhealthy (default 3)'],
  ['--timeout <duration>', 'timeout', "each --check's deadline (default 1s)"],
  ['--action <action>', 'action', 'restart (default) or stop'],
  ['--min-unhealthy <duration>', 'minUnhealthy', 'act only on containers unhealthy at least this long (default 0s)'],
  ['--start-grace <duration>', 'startGrace', 'never act this soon after a start (default 10s; a HEALTHCHECK start period if longer)'],
  ['--stop-timeout <duration>', 'stopTimeout', 'the grace a restart or stop gives the container before SIGKILL (default 10s)'],
  ['--dry-run', 'dryRun', 'only log what would be done'],
  ['--agent-binary <path>', 'agentBinary', 'for sidecar health: the single executable (default: dist/healthcheck)'],
  ['--sidecar-image <image>', 'sidecarImage', "for sidecar health: the sidecars' image (default: the watched container's)"],
] as const;

const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

const DEFAULT_ENDPOINT = '127.0.0.1:9464';
const DEFAULT_APPLY_TIMEOUT = '30s';

export function parseLifeguardArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LifeguardInvocation {
  let out = '';
  let err = '';
  let invocation: LifeguardInvocation | undefined;
  const program = new Command('lifeguard')
    .description('Starts app instances, health-checks them, and replaces the ones that fail.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    // Set before the subcommands are added, which inherit them.
    .configureOutput({
      writeOut: (text) => (out += text),
      writeErr: (text) => (err += text),
      outputError: () => {}, // reported by the caller, as one line
    })
    .exitOverride()
    .allowExcessArguments(false)
    .showSuggestionAfterError(false);

  program
    .command('run')
    .description('run the apps of CONFIG until SIGTERM or SIGINT, then stop every instance and exit 0; SIGHUP reloads CONFIG')
    .argument('<config>', 'config file (JSON, or YAML when named .yaml or .yml)')
    .option('--log-format <format>', 'transition log format: json or text', 'json')
    .option('--duration <duration>', 'stop after this long, as on SIGTERM (Go syntax: 30s, 5m)')
    .option('--state-dir <dir>', "instead of the config's stateDir (relative to the working directory)")
    .addHelpText('after', '\nThe transition log goes to stdout, one line per transition; errors go to stderr.')
    .action((configPath: string, options: { logFormat: string; duration?: string; stateDir?: string }) => {
      const logFormat = LOG_FORMATS.find((format) => format === options.logFormat);
      if (logFormat === undefined) invalidValue('--log-format', options.logFormat, 'json or text');
      const durationMs = options.duration === undefined ? undefined : parseDurationValue('--duration', options.duration, false);
      invocation = { kind: 'run', configPath, logFormat, ...(durationMs === undefined ? {} : { durationMs }), ...stateDirOf(options) };
    });

  const watch = program
    .command('watch')
    .description('restart (or stop) the unhealthy containers of a Docker or Podman engine, which lifeguard did not start')
    .option('--config <file>', 'a JSON or YAML file with a "watch" section: the same settings, under the fields named in the README');
  for (const [flag, , help] of WATCH_FLAGS) {
    if (flag.startsWith('--check ')) watch.option(flag, help, (value: string, previous: string[] = []) => [...previous, value]);
    else watch.option(flag, help);
  }
  watch
    .option('--log-format <format>', 'transition log format: json or text', 'json')
    .option('--duration <duration>', 'stop after this long, as on SIGTERM (Go syntax: 30s, 5m)')
    .addHelpText('after', '\nThe transition log goes to stdout, one line per transition; errors go to stderr.')
    .action((options: Record<string, unknown>) => {
      const logFormat = LOG_FORMATS.find((format) => format === options.logFormat);
      if (logFormat === undefined) invalidValue('--log-format', String(options.logFormat), 'json or text');
      const durationMs = options.duration === undefined ? undefined : parseDurationValue('--duration', String(options.duration), false);
      const values: Record<string, unknown> = {};
      const flagOf: Record<string, string> = {};
      for (const [flag, field] of WATCH_FLAGS) {
        flagOf[field] = flag.split(' ')[0] as string;
        const value = options[attributeOf(flag)];
        if (value === undefined) continue;
        // Counts arrive as text; digits become a number, anything else goes on as given, for the schema to refuse.
        values[field] = typeof value === 'string' && /^\d+$/.test(value) && field === 'retries' ? Number(value) : value;
      }
      const configPath = options.config === undefined ? {} : { configPath: String(options.config) };
      invocation = { kind: 'watch', ...configPath, flags: { values, flagOf }, logFormat, ...(durationMs === undefined ? {} : { durationMs }) };
    });

  program
    .command('status')
    .description("a running supervisor's apps and instances, from its HTTP endpoint; exit 1 when an app has fewer healthy instances than desired")
    .argument('[app]', 'only this app')
    .option('--endpoint <host:port>', "the supervisor's http.listen", DEFAULT_ENDPOINT)
    .option('--token <token>', 'the bearer token of http.token (default: $LIFEGUARD_TOKEN)')
    .option('--json', 'print JSON instead of tables')
    .action((app: string | undefined, options: { endpoint: string; token?: string; json?: boolean }) => {
      const token = options.token ?? env.LIFEGUARD_TOKEN;
      invocation = { kind: 'status', ...(app === undefined ? {} : { app }), endpoint: options.endpoint, ...(token === undefined || token === '' ? {} : { token }), json: options.json === true };
    });

  program
    .command('apply')
    .description('apply CONFIG to the lifeguard running on its state directory: new apps start, removed ones drain, changed ones roll')
    .argument('<config>', 'config file (JSON, or YAML when named .yaml or .yml)')
    .option('--state-dir <dir>', "instead of the config's stateDir (relative to the working directory)")
    .option('--timeout <duration>', "how long to wait for the supervisor's answer", DEFAULT_APPLY_TIMEOUT)
    .addHelpText('after', '\nExit 0 applied, 2 invalid or refused (nothing changed), 3 no lifeguard runs there or none answered.')
    .action((configPath: string, options: { stateDir?: string; timeout: string }) => {
      const timeoutMs = parseDurationValue('--timeout', options.timeout, false);
      invocation = { kind: 'apply', configPath, timeoutMs, ...stateDirOf(options) };
    });

  program
    .command('validate')
    .description('check CONFIG and exit: 0 when valid, 2 with the first bad field otherwise')
    .argument('<config>', 'config file (JSON, or YAML when named .yaml or .yml)')
    .option('--state-dir <dir>', "instead of the config's stateDir (relative to the working directory)")
    .action((configPath: string, options: { stateDir?: string }) => {
      invocation = { kind: 'validate', configPath, ...stateDirOf(options) };
    });

  try {
    program.parse(argv, { from: 'user' });
  } catch (thrown) {
    if (!(thrown instanceof CommanderError)) throw thrown;
    if (thrown.exitCode === 0) return { kind: 'print', told: { stdout: out, stderr: err } };
    // Help asked for by mistake (no command at all) is still a usage error: say what is missing.
    const message = thrown.code === 'commander.help' ? 'missing command: run, apply, validate, status or watch (see --help)' : thrown.message;
    throw new LifeguardFailure(usageError(message.replace(/^error: /, '').replace(/\n/g, ' ')));
  }
  if (invocation === undefined) throw new LifeguardFailure(usageError('missing command: run, apply, validate, status or watch (see --help)'));
  return invocation;
}

function stateDirOf(options: { stateDir?: string }): { stateDir?: string } {
  if (options.stateDir === '') invalidValue('--state-dir', '', 'a directory');
  return options.stateDir === undefined ? {} : { stateDir: options.stateDir };
}

/** Where commander puts a flag's value: `--min-unhealthy <d>` in `minUnhealthy`. */
function attributeOf(flag: string): string {
  return (flag.split(' ')[0] as string).slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
