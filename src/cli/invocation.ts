import type { AgentOptions, AgentOutcome } from '../engine/types.js';

/** What the operator is told once the agent has finished; each dialect has its own streams and wording. */
export interface Told {
  readonly stdout?: string;
  readonly stderr?: string;
  /** A dialect with exit codes of its own (grpc-health-probe's) says it here; else the outcome's code stands. */
  readonly exitCode?: number;
}

/**
 * What a dialect made of a command line: text to print before exiting 0 (help, version),
 * or an agent to run and how to tell its outcome. Parsing never runs anything, so it is testable alone.
 */
export type Invocation =
  | { readonly kind: 'print'; readonly told: Told }
  /** `--mode=is-ready`: exit 0 iff the ready file names a running agent (an exec probe for a shell-less sidecar). */
  | { readonly kind: 'is-ready'; readonly readyFile: string }
  | {
      readonly kind: 'run';
      readonly options: AgentOptions;
      /** The supervisor's pipe for one JSON line per round (native `--heartbeat-fd`). */
      readonly heartbeatFd?: number;
      /** Lifecycle: a file that exists while the app has passed readiness (for a plain sidecar script). */
      readonly readyFile?: string;
      /** Lifecycle: say on stdout when readiness passes (`--log-ready`); the report otherwise speaks only of failure. */
      readonly logReady?: boolean;
      /** What to run once every check has passed (`-- ./server --flag`); the agent then exits with its status. */
      readonly command?: readonly string[];
      readonly tell: (outcome: AgentOutcome) => Told;
    };

/**
 * The environment, read a variable at a time and only where a command line leaves a value to it ($PORT without
 * --port; CF_INSTANCE_PORTS with -external-port). Not process.env itself: Bun makes that object whole at its first
 * use, a property for every variable, and an app's environment can be large (Kubernetes gives a pod seven
 * variables for each service of its namespace: 210 of them cost a TCP one-shot 0.26 M instructions, 4%, by
 * callgrind) — which a start given its port never needs.
 */
export type Getenv = (name: string) => string | undefined;

/**
 * A command-line dialect: parses argv (and the environment, for $PORT) into an Invocation, or throws a usage error.
 * `command` is what followed `--`, split off before the dialect was chosen; a dialect without gating refuses it.
 */
export type ParseArgs = (argv: readonly string[], getenv: Getenv, command?: readonly string[]) => Promise<Invocation>;
