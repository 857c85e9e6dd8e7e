// Runs the built agent or any command as a child process, capturing what it says and how it ends. Each child
// gets its own process group, which is killed when the child ends or its hard time limit passes, so that nothing
// it started (a shell's background server) outlives it.
//
// The agent is `node dist/healthcheck.cjs` (made by `npm run build`), or, with LIFEGUARD_TEST_AGENT=FILE, that
// executable: LIFEGUARD_TEST_AGENT=dist/healthcheck runs the agent's whole CLI suite against what ships
// (`npm run test:executable`).
import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const AGENT_BUNDLE = fileURLToPath(new URL('../../dist/healthcheck.cjs', import.meta.url));

/** The agent's command line before its arguments: [node, bundle], or [executable]. */
export const AGENT_COMMAND: readonly [string, ...string[]] = agentCommand(process.env['LIFEGUARD_TEST_AGENT']);

function agentCommand(chosen: string | undefined): [string, ...string[]] {
  if (chosen === undefined || chosen === '') return [process.execPath, AGENT_BUNDLE];
  const executable = resolve(ROOT, chosen);
  // A missing file would make every test fail with ENOENT; one clear line instead.
  if (!existsSync(executable)) throw new Error(`LIFEGUARD_TEST_AGENT=${chosen}: ${executable} does not exist (npm run build:binary)`);
  return [executable];
}

/**
 * The environment that makes the agent under test load `file` before its own code, for fault injection:
 * NODE_OPTIONS for node, LGD_OPTIONS for the Bun executable (BUN_OPTIONS renamed by scripts/lib/bun-base.mjs,
 * so that an app's own BUN_OPTIONS never reaches it).
 */
export function preloadEnv(file: string, command: readonly string[] = AGENT_COMMAND): Record<string, string> {
  return command.length > 1 ? { NODE_OPTIONS: `--require ${file}` } : { LGD_OPTIONS: `--preload ${file}` };
}

export interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

export interface RunOptions {
  /** Added to (not replacing) this process's environment; `undefined` removes a variable. */
  readonly env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; without it stdin is empty. */
  readonly input?: string;
  /** The child is SIGKILLed after this long (default 30s): a hung agent fails its test instead of hanging it. */
  readonly killAfterMs?: number;
  /** The child's working directory; default this process's. */
  readonly cwd?: string;
  /** A descriptor to hand over as stdout or stderr (a FIFO: test/helpers/fifo.ts) instead of a pipe read here. */
  readonly stdout?: number;
  readonly stderr?: number;
  /** Extra stdio beyond 0-2, e.g. ['pipe'] for a heartbeat on fd 3. */
  readonly extraStdio?: readonly (IOType | number)[];
}

export interface Started {
  readonly child: ChildProcess;
  readonly ended: Promise<Ended>;
}

/**
 * tap's process tracker (@tapjs/processinfo, for its coverage report) rides in NODE_OPTIONS into every Node.js
 * process a test starts: a module-loader thread and a coverage session in each, about 0.2 CPU-s per start on
 * Node.js 20, twice what the agent itself costs to start. The children run as an operator runs them instead: with
 * the test's NODE_OPTIONS minus that one entry. tap adds it back on every spawn, so `env` sets the variable and
 * execs the command (same pid). What they run is then missing from tap's coverage report, which is not enforced.
 */
const TAP_TRACKER = /(^|\s)"?--(import|require|loader)[= ]"?[^\s"]*@tapjs\/processinfo[^\s"]*"?/g;

function withoutTracker(command: string, args: readonly string[], nodeOptions: string | undefined): [string, string[]] {
  if (!/@tapjs\/processinfo/.test(process.env['NODE_OPTIONS'] ?? '')) return [command, [...args]]; // not under tap
  const kept = (nodeOptions ?? '').replace(TAP_TRACKER, '').trim();
  return ['env', [...(kept === '' ? ['-u', 'NODE_OPTIONS'] : [`NODE_OPTIONS=${kept}`]), command, ...args]];
}

export function start(command: string, args: readonly string[], options: RunOptions = {}): Started {
  const began = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const [file, argv] = withoutTracker(command, args, env['NODE_OPTIONS']);
  const child: ChildProcess = spawn(file, argv, {
    env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    detached: true, // its own process group, killed as a whole below
    stdio: ['pipe', options.stdout ?? 'pipe', options.stderr ?? 'pipe', ...(options.extraStdio ?? [])],
  });
  child.stdin!.on('error', () => {}); // a child that exits before reading stdin is not an error here
  child.stdin!.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  const limit = setTimeout(killGroup, options.killAfterMs ?? 30_000);
  const ended = new Promise<Ended>((resolve, reject) => {
    child.on('error', reject);
    // On exit the rest of the group goes too, so that its pipes close and 'close' (all output read) follows.
    child.on('exit', (code, signal) => {
      const elapsedMs = performance.now() - began;
      clearTimeout(limit);
      killGroup();
      child.on('close', () => resolve({ code, signal, stdout, stderr, elapsedMs }));
    });
  });
  return { child, ended };
}

export function run(command: string, args: readonly string[], options?: RunOptions): Promise<Ended> {
  return start(command, args, options).ended;
}

/** The agent under test (AGENT_COMMAND) with these arguments. */
export function startAgent(args: readonly string[], options?: RunOptions): Started {
  const [command, ...rest] = AGENT_COMMAND;
  return start(command, [...rest, ...args], options);
}

export function runAgent(args: readonly string[], options?: RunOptions): Promise<Ended> {
  return startAgent(args, options).ended;
}

/**
 * What an agent wrote on the extra descriptor `fd` (a heartbeat pipe handed over with extraStdio), read until
 * `done` holds for it or the agent closes the pipe.
 */
export async function readDescriptor(started: Started, fd: number, done: (text: string) => boolean): Promise<string> {
  const stream = started.child.stdio[fd] as NodeJS.ReadableStream;
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) {
    text += chunk as string;
    if (done(text)) break;
  }
  return text;
}
