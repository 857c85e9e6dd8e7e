/**
 * Cloud Foundry's flag dialect (`-port=8080 -uri=/health -startup-interval=2s`), so that the agent can replace
 * diego-release's `healthcheck` binary where Diego runs it, whichever generation of Diego that is. Behaviour
 * follows that binary: the mode comes from which interval flag is set, one check on the first IPv4 address
 * outside 127.0.0.0/8, its request headers, its messages on stderr. Where it misbehaves (a panic when the startup
 * timeout fires during the first attempt, "connection refused" for every HTTP error) the agent reports the real
 * failure instead.
 */
import type { AgentMode, AgentOutcome } from '../engine/types.js';
import { formatDuration, goDuration } from '../checks/duration.js';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { goDialPort, isServiceName, servicePorts } from '../checks/go-port.js';
import { durationValue, invalidValue, parseUri } from '../checks/parse.js';
import type { CheckSpec } from '../checks/types.js';
import { dialectSelector } from './dialect.js';
import { type GoFlagKind, parseGoFlags } from './go-flags.js';
import type { Invocation, ParseArgs, Told } from './invocation.js';

/**
 * The binary's flags in both generations, and their defaults; every one but -external-port takes a value
 * (Go's flag package: `-f=v`, `-f v`, `--f=v`). -external-port is lifeguard's, for the `external` build's mapping.
 */
const FLAGS = {
  network: 'tcp',
  uri: '',
  port: '8080',
  timeout: '1s',
  'startup-interval': '0',
  'startup-timeout': '60s',
  'liveness-interval': '0',
  'readiness-interval': '0',
  'until-ready-interval': '0',
  'readiness-timeout': '60s',
  'external-port': 'false',
} as const;
type Flag = keyof typeof FLAGS;

/** Go's boolean flags may stand alone; the others need a value. */
const BOOLEAN_FLAGS: readonly string[] = ['external-port'];

const DURATION_FLAGS: readonly Flag[] = [
  'timeout',
  'startup-interval',
  'startup-timeout',
  'liveness-interval',
  'readiness-interval',
  'until-ready-interval',
  'readiness-timeout',
];

const USAGE = `Usage of healthcheck (Cloud Foundry flags; durations in Go syntax):
  -network string            network type to dial with: tcp (default "tcp")
  -uri string                uri to healthcheck; empty: a TCP check
  -port string               port to healthcheck (default "8080")
  -timeout duration          deadline of one check (default 1s)
  -startup-interval duration     startup mode: check until it passes, every interval
  -startup-timeout duration      startup mode: give up after this, 0 never (default 1m0s)
  -liveness-interval duration    liveness mode: check until it fails, every interval
  -readiness-interval duration   readiness mode: check until it fails, every interval
  -until-ready-interval duration until-ready mode: check until it passes, every interval, quietly
  -readiness-timeout duration    Diego before May 2023: makes -readiness-interval the startup mode,
                                 giving up after this, 0 never (default 1m0s)
  -external-port                 map -port through CF_INSTANCE_PORTS, as the binary's external build does
With no interval set, one check. Native flags (--mode, --port, ...): healthcheck --help.
`;

/** A mode of the binary: the interval flag that selects it, and how it words the error it ends with. */
interface ModeFlag {
  readonly flag: Flag;
  readonly mode: AgentMode;
  readonly prefix: string;
  /** Startup modes give up after a timeout, named in their timeout message. */
  readonly startup?: { readonly timeout: 'startup-timeout' | 'readiness-timeout'; readonly name: string };
}

/**
 * Cloud Foundry's binary renamed its startup flags in commit cf17159 (May 2023): before, `-readiness-interval`
 * with `-readiness-timeout` was the startup mode; since, `-startup-interval` with `-startup-timeout` is, and
 * `-readiness-interval` runs until the check fails. -readiness-timeout exists only before, so its presence
 * picks the older generation. Each list is in the order that generation's binary tries its modes.
 */
const GENERATIONS = {
  current: [
    { flag: 'startup-interval', mode: 'readiness', prefix: '', startup: { timeout: 'startup-timeout', name: 'startup' } },
    { flag: 'liveness-interval', mode: 'liveness', prefix: 'Liveness check unsuccessful: ' },
    // Readiness, in the binary's sense, runs until the check fails: the agent's liveness with its own prefix.
    { flag: 'readiness-interval', mode: 'liveness', prefix: 'Readiness check unsuccessful: ' },
    { flag: 'until-ready-interval', mode: 'until-ready', prefix: '' },
  ],
  'before-2023-05': [
    { flag: 'readiness-interval', mode: 'readiness', prefix: '', startup: { timeout: 'readiness-timeout', name: 'readiness' } },
    { flag: 'liveness-interval', mode: 'liveness', prefix: 'Liveness check unsuccessful: ' },
  ],
} as const satisfies Record<string, readonly ModeFlag[]>;

/** Flags only the current generation has; with -readiness-timeout they are as unknown as to that binary. */
const CURRENT_ONLY: readonly Flag[] = ['startup-interval', 'startup-timeout', 'until-ready-interval'];

/**
 * Go's flag kinds of the binary's flags; every value flag collects, so that a repeated one is caught below. Here
 * and below, loops rather than array builtins (map, find, spread of a Map): each builtin's first run costs every
 * start of the agent page faults (bench:agent).
 */
const KINDS: Record<string, GoFlagKind> = {};
for (const flag in FLAGS) KINDS[flag] = BOOLEAN_FLAGS.includes(flag) ? 'bool' : 'list';

export const parseCfArgs: ParseArgs = async (argv, getenv) => {
  const parsed = parseGoFlags(argv, KINDS);
  if ('error' in parsed) return flagError(`${parsed.error}${mixedDialects(argv)}`);
  // Go's flag package answers -h and -help with the usage on stderr, and exit 0.
  if (parsed.help) return { kind: 'print', told: { stderr: USAGE } };
  const generation = parsed.values.has('readiness-timeout') ? 'before-2023-05' : 'current';
  const newer = generation === 'before-2023-05' ? CURRENT_ONLY.find((flag) => parsed.values.has(flag)) : undefined;
  if (newer !== undefined) {
    return flagError(`flag provided but not defined: -${newer} (-readiness-timeout selects Cloud Foundry's flags from before May 2023, which have no -${newer})`);
  }
  // Go's flag package lets the last one win; two values for one flag are a mistake somewhere, so neither is guessed.
  for (const [name, given] of parsed.values) {
    if (Array.isArray(given) && given.length > 1) usage(`flag given more than once: -${name} (${given.map((v) => `'${v}'`).join(', ')})`);
  }
  // The binary ignores anything after the first non-flag, flags included; refusing it is safer.
  if (parsed.rest.length > 0) usage(`unexpected argument '${parsed.rest[0]}'`);

  const value = (flag: Flag): string => {
    const given = parsed.values.get(flag);
    return given === undefined ? FLAGS[flag] : typeof given === 'string' ? given : (given[0] as string);
  };
  const durations = new Map<Flag, number>();
  for (const flag of DURATION_FLAGS) {
    const ms = goDuration(value(flag));
    // Go's flag package refuses what time.ParseDuration refuses, in these words, before anything runs.
    if (ms === undefined) return flagError(`invalid value ${JSON.stringify(value(flag))} for flag -${flag}: parse error`);
    // Past what a timer holds, in parse.ts's words; zero and below are judged per flag, after.
    durations.set(flag, durationValue(`-${flag}`, value(flag), ms, true));
  }
  const duration = (flag: Flag): number => durations.get(flag) as number;
  if (!['tcp', 'tcp4'].includes(value('network'))) invalidValue('-network', value('network'), 'tcp');

  // Go would dial with no deadline at 0, and time out at once below it: neither is a check.
  const timeoutMs = duration('timeout');
  if (timeoutMs <= 0) invalidValue('-timeout', value('timeout'), 'a duration above 0, such as 500ms, 2s or 1m30s');
  // -port is Go's string flag: whatever the binary would dial is checked, and fails as its dial fails (go-port.ts).
  const external = value('external-port') === 'true';
  const port = external ? (await import('./cf-instance-ports.js')).externalPort(value('port'), getenv) : await goPortNumber(value('port'));
  const portText = external ? {} : { portText: value('port') };
  const uri = value('uri');
  const check: CheckSpec =
    uri === ''
      ? { kind: 'tcp', port, ...portText, timeoutMs }
      : {
          kind: 'http',
          port,
          ...portText,
          timeoutMs,
          path: parseUri('-uri', uri),
          expectStatus: [{ min: 200, max: 200 }],
          headers: [['X-Forwarded-Proto', 'https']],
          userAgent: 'diego-healthcheck',
          // Go's HTTP client follows redirects (up to 10); the agent follows them to the same host only.
          followRedirects: true,
          wording: 'cloud-foundry',
        };

  // An interval of 0 means "not set", as in the binary; the first one set picks the mode.
  const modes: readonly ModeFlag[] = GENERATIONS[generation];
  // A negative interval is not set either, and a negative startup timeout never fires, as in the binary.
  const chosen = firstSet(modes, duration);
  const startup = chosen?.startup;
  const startupTimeoutMs = startup === undefined ? 0 : Math.max(0, duration(startup.timeout));
  const invocation: Invocation = {
    kind: 'run',
    options: {
      mode: chosen?.mode ?? 'once',
      checks: [check],
      intervalMs: chosen?.intervalMs ?? 1000, // once: one round, the interval is never used
      startupTimeoutMs,
      initialDelayMs: 0,
      failureThreshold: 1,
      interfaceRule: 'cloud-foundry',
      // The binary's ticker starts with its process; counted from our first round instead, the first interval
      // would be longer by our start-up (tens of ms on a loaded machine).
      fromProcessStart: true,
    },
    tell: (outcome) => tell(outcome, chosen?.prefix ?? '', startup?.name ?? '', startupTimeoutMs),
  };
  return invocation;
};

/** The first mode whose interval is set (above 0), with that interval. */
function firstSet(modes: readonly ModeFlag[], duration: (flag: Flag) => number): (ModeFlag & { readonly intervalMs: number }) | undefined {
  for (const entry of modes) {
    const intervalMs = duration(entry.flag);
    if (intervalMs > 0) return { ...entry, intervalMs };
  }
  return undefined;
}

/** The binary's last words: nothing on success, else one line on stderr, prefixed as its mode does. */
function tell(outcome: AgentOutcome, prefix: string, startupName: string, startupTimeoutMs: number): Told {
  if (outcome.passed || outcome.failure === undefined) return {};
  const lead = outcome.timedOut
    ? `Timed out after ${formatDuration(startupTimeoutMs)} (${outcome.attempts} attempts) waiting for ${startupName} check to succeed: `
    : prefix;
  return { stderr: `${lead}${outcome.failure.message}\n` };
}

/**
 * The port the binary dials for -port's text, when it dials one (0 when every attempt fails before dialing). A
 * name is looked up in /etc/services here, once, as Go reads that file once; node:fs is loaded only then.
 */
async function goPortNumber(text: string): Promise<number> {
  let services: ReadonlyMap<string, number> = new Map();
  if (isServiceName(text)) {
    const { readFileSync } = await import('node:fs');
    try {
      services = servicePorts(readFileSync('/etc/services', 'latin1'));
    } catch {
      // no file: every name is unknown, as to Go
    }
  }
  const go = goDialPort('', text, (name) => services.get(name));
  return 'port' in go ? go.port : 0;
}

/** A command line Go's flag package refuses: its line, then the usage, on stderr, exit 2 (as flag.ExitOnError). */
function flagError(line: string): Invocation {
  return { kind: 'print', told: { stderr: `${line}\n${USAGE}`, exitCode: 2 } };
}

/** For a double-dash flag among single-dash ones: which argument made this Cloud Foundry's dialect. */
function mixedDialects(argv: readonly string[]): string {
  const selector = dialectSelector(argv);
  if (selector === undefined || !argv.some((arg) => arg.startsWith('--'))) return '';
  return ` (the single-dash flag '${selector}' selected Cloud Foundry's flags; for the native ones, write every flag with two dashes: healthcheck --help)`;
}

function usage(detail: string): never {
  throw new LifeguardFailure(usageError(detail));
}
