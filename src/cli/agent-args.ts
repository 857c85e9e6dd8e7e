/**
 * An agent command line, whichever dialect it is in: parsed into an Invocation, or a usage error thrown.
 * It runs nothing and never exits, so that the entry point and the argv fuzz tests share one path.
 */
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { ownValue } from '../checks/own-value.js';
import { dialectSelector } from './dialect.js';
import { grpcProbeFlags } from './grpc-probe-flags.js';
import { parseNativeArgs } from './healthcheck.js';
import type { ParseArgs } from './invocation.js';

/**
 * Any of grpc-health-probe's flags with one dash (`-addr`, `-service`, `-tls`, `-version`...) marks its dialect, and
 * so does `--addr`, as Go's flag package takes both (the other names with two dashes are, or could be, native
 * flags: `--version`). So `-service=x` without an -addr is that binary's `-addr not specified` (exit 1), not Cloud
 * Foundry's `flag provided but not defined` (exit 2).
 */
function usesGrpcProbeDialect(argv: readonly string[]): boolean {
  for (const arg of argv) if (isFlag(arg, '--addr') || isGrpcProbeFlag(arg)) return true;
  return false;
}

/** `-name` or `-name=value`, with one dash, where `name` is one of grpc-health-probe's flags. */
function isGrpcProbeFlag(arg: string): boolean {
  if (arg[0] !== '-' || arg[1] === '-') return false;
  const equals = arg.indexOf('=');
  return ownValue(grpcProbeFlags(), equals === -1 ? arg.slice(1) : arg.slice(1, equals)) !== undefined;
}

/**
 * `name` or `name=value`. Not a regular expression: a native command line runs none, as the first one's use costs
 * every start page faults (bench:agent).
 */
function isFlag(arg: string, name: string): boolean {
  return arg.startsWith(name) && (arg.length === name.length || arg[name.length] === '=');
}

export const parseAgentArgs: ParseArgs = async (all, getenv) => {
  // What follows the first `--` is a command to run once ready, never flags: it must not pick the dialect.
  const split = all.indexOf('--');
  const argv = split === -1 ? all : all.slice(0, split);
  const command = split === -1 ? undefined : all.slice(split + 1);
  if (command !== undefined && (command.length === 0 || command[0] === '')) {
    throw new LifeguardFailure(usageError('expected a command after --, such as -- ./server --flag'));
  }
  // The other dialects are loaded only when used. The native one is part of the entry: a dynamic import of it cost
  // each native start about 17 page faults (the loader's work), and a Cloud Foundry start nothing measurable.
  if (usesGrpcProbeDialect(argv) || dialectSelector(argv) !== undefined) {
    if (command !== undefined) throw new LifeguardFailure(usageError('a command after -- needs the native flags (--mode=readiness --check ...)'));
    const parse: ParseArgs = usesGrpcProbeDialect(argv)
      ? (await import('./grpc-probe-dialect.js')).parseGrpcProbeArgs
      : (await import('./cf-dialect.js')).parseCfArgs;
    return parse(argv, getenv);
  }
  return parseNativeArgs(argv, getenv, command);
};
