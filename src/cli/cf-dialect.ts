/**
 * Cloud Foundry's flag dialect (`-port=8080 -uri=/health -startup-interval=2s`), so that the agent can replace
 * diego-release's `healthcheck` binary where Diego runs it. Behaviour follows that binary: the mode comes from
 * which interval flag is set, one check on the first non-loopback IPv4 address, its request headers, its
 * messages on stderr. Where it misbehaves (a panic when the startup timeout fires during the first attempt,
 * "connection refused" for every HTTP error) the agent reports the real failure instead.
 */
import parser from 'yargs-parser/browser';
import type { AgentMode, AgentOutcome } from '../engine/types.js';
import { formatDuration } from '../checks/duration.js';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { invalidValue, parseDurationValue, parsePort, parseUri } from '../checks/parse.js';
import type { CheckSpec } from '../checks/types.js';
import type { Invocation, ParseArgs, Told } from './invocation.js';

/** The binary's flags and defaults; every one takes a value (Go's flag package: `-f=v`, `-f v`, `--f=v`). */
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
} as const;
type Flag = keyof typeof FLAGS;

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
With no interval set, one check. Native flags (--mode, --port, ...): healthcheck --help.
`;

/** The modes of the binary, in the order it tries them, and how it prefixes the error it ends with. */
const MODE_FLAGS: readonly { flag: Flag; mode: AgentMode; prefix: string }[] = [
  { flag: 'startup-interval', mode: 'readiness', prefix: '' },
  { flag: 'liveness-interval', mode: 'liveness', prefix: 'Liveness check unsuccessful: ' },
  // Readiness, in the binary's sense, runs until the check fails: the agent's liveness with its own prefix.
  { flag: 'readiness-interval', mode: 'liveness', prefix: 'Readiness check unsuccessful: ' },
  { flag: 'until-ready-interval', mode: 'until-ready', prefix: '' },
];

export const parseCfArgs: ParseArgs = async (argv) => {
  const parsed = parser.detailed([...argv], {
    string: Object.keys(FLAGS),
    configuration: {
      'short-option-groups': false,
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': false,
      'duplicate-arguments-array': false, // Go's flag package: the last one wins
    },
  });
  const given = parsed.argv as Record<string, unknown> & { _: (string | number)[] };
  const names = Object.keys(given).filter((name) => name !== '_');
  // Go's flag package answers -h and -help with the usage on stderr, and exit 0.
  if (names.includes('h') || names.includes('help')) return { kind: 'print', told: { stderr: USAGE } };
  const unknown = names.find((name) => !Object.hasOwn(FLAGS, name));
  if (unknown !== undefined) usage(`flag provided but not defined: -${unknown}`);
  missingArgument(argv);
  // The binary ignores anything after the first non-flag, flags included; refusing it is safer.
  if (given._.length > 0) usage(`unexpected argument '${String(given._[0])}'`);

  const value = (flag: Flag): string => (typeof given[flag] === 'string' ? (given[flag] as string) : FLAGS[flag]);
  const duration = (flag: Flag, allowZero: boolean): number => parseDurationValue(`-${flag}`, value(flag), allowZero);
  if (!['tcp', 'tcp4'].includes(value('network'))) invalidValue('-network', value('network'), 'tcp');

  const timeoutMs = duration('timeout', false);
  const port = parsePort('-port', value('port'));
  const uri = value('uri');
  const check: CheckSpec =
    uri === ''
      ? { kind: 'tcp', port, timeoutMs }
      : {
          kind: 'http',
          port,
          timeoutMs,
          path: parseUri('-uri', uri),
          expectStatus: [{ min: 200, max: 200 }],
          headers: [['X-Forwarded-Proto', 'https']],
          userAgent: 'diego-healthcheck',
          // Go's HTTP client follows redirects (up to 10); the agent follows them to the same host only.
          followRedirects: true,
        };

  // An interval of 0 means "not set", as in the binary; the first one set picks the mode.
  const chosen = MODE_FLAGS.map((entry) => ({ ...entry, intervalMs: duration(entry.flag, true) })).find(
    (entry) => entry.intervalMs > 0,
  );
  const startupTimeoutMs = duration('startup-timeout', true);
  const invocation: Invocation = {
    kind: 'run',
    options: {
      mode: chosen?.mode ?? 'once',
      checks: [check],
      intervalMs: chosen?.intervalMs ?? 1000, // once: one round, the interval is never used
      startupTimeoutMs: chosen?.mode === 'readiness' ? startupTimeoutMs : 0,
      initialDelayMs: 0,
      failureThreshold: 1,
    },
    tell: (outcome) => tell(outcome, chosen?.prefix ?? '', startupTimeoutMs),
  };
  return invocation;
};

/** The binary's last words: nothing on success, else one line on stderr, prefixed as its mode does. */
function tell(outcome: AgentOutcome, prefix: string, startupTimeoutMs: number): Told {
  if (outcome.passed || outcome.failure === undefined) return {};
  const lead = outcome.timedOut
    ? `Timed out after ${formatDuration(startupTimeoutMs)} (${outcome.attempts} attempts) waiting for startup check to succeed: `
    : prefix;
  return { stderr: `${lead}${outcome.failure.message}\n` };
}

/** Go's `flag needs an argument: -port`, for a flag given last with no value. */
function missingArgument(argv: readonly string[]): void {
  const last = argv.at(-1);
  if (last !== undefined && /^--?[A-Za-z][A-Za-z0-9-]*$/.test(last)) usage(`flag needs an argument: ${last}`);
}

function usage(detail: string): never {
  throw new LifeguardFailure(usageError(detail));
}
