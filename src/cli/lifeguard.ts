/**
 * The supervisor's command line (`lifeguard run CONFIG.json`, `lifeguard validate CONFIG.json`), parsed with
 * commander. Parsing runs nothing, so it is testable alone; src/cli/lifeguard-main.ts acts on the result.
 */
import { Command, CommanderError } from 'commander';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { invalidValue, parseDurationValue } from '../checks/parse.js';
import { VERSION } from '../checks/version.js';
import type { LogFormat } from '../supervisor/transition-log.js';
import type { Told } from './invocation.js';

export type LifeguardInvocation =
  | { readonly kind: 'print'; readonly told: Told }
  | { readonly kind: 'validate'; readonly configPath: string }
  | {
      readonly kind: 'run';
      readonly configPath: string;
      readonly logFormat: LogFormat;
      /** Stop on our own after this long, as if sent SIGTERM; undefined: run until a signal. */
      readonly durationMs?: number;
    };

const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

export function parseLifeguardArgs(argv: readonly string[]): LifeguardInvocation {
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
    .description('run the apps of CONFIG until SIGTERM or SIGINT, then stop every instance and exit 0')
    .argument('<config>', 'config file (JSON)')
    .option('--log-format <format>', 'transition log format: json or text', 'json')
    .option('--duration <duration>', 'stop after this long, as on SIGTERM (Go syntax: 30s, 5m)')
    .addHelpText('after', '\nThe transition log goes to stdout, one line per transition; errors go to stderr.')
    .action((configPath: string, options: { logFormat: string; duration?: string }) => {
      const logFormat = LOG_FORMATS.find((format) => format === options.logFormat);
      if (logFormat === undefined) invalidValue('--log-format', options.logFormat, 'json or text');
      const durationMs = options.duration === undefined ? undefined : parseDurationValue('--duration', options.duration, false);
      invocation = { kind: 'run', configPath, logFormat, ...(durationMs === undefined ? {} : { durationMs }) };
    });

  program
    .command('validate')
    .description('check CONFIG and exit: 0 when valid, 2 with the first bad field otherwise')
    .argument('<config>', 'config file (JSON)')
    .action((configPath: string) => {
      invocation = { kind: 'validate', configPath };
    });

  try {
    program.parse(argv, { from: 'user' });
  } catch (thrown) {
    if (!(thrown instanceof CommanderError)) throw thrown;
    if (thrown.exitCode === 0) return { kind: 'print', told: { stdout: out, stderr: err } };
    // Help asked for by mistake (no command at all) is still a usage error: say what is missing.
    const message = thrown.code === 'commander.help' ? 'missing command: run or validate (see --help)' : thrown.message;
    throw new LifeguardFailure(usageError(message.replace(/^error: /, '').replace(/\n/g, ' ')));
  }
  if (invocation === undefined) throw new LifeguardFailure(usageError('missing command: run or validate (see --help)'));
  return invocation;
}
