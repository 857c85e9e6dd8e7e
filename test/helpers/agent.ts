// Runs the built agent (dist/healthcheck.cjs, made by `npm run build`) or any command as a child process,
// capturing what it says and how it ends. Each child gets its own process group, which is killed when the
// child ends or its hard time limit passes, so that nothing it started (a shell's background server) outlives it.
import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AGENT_BUNDLE = fileURLToPath(new URL('../../dist/healthcheck.cjs', import.meta.url));

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
  /** Extra stdio beyond 0-2, e.g. ['pipe'] for a heartbeat on fd 3. */
  readonly extraStdio?: readonly (IOType | number)[];
}

export interface Started {
  readonly child: ChildProcess;
  readonly ended: Promise<Ended>;
}

export function start(command: string, args: readonly string[], options: RunOptions = {}): Started {
  const began = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child: ChildProcess = spawn(command, [...args], {
    env,
    detached: true, // its own process group, killed as a whole below
    stdio: ['pipe', 'pipe', 'pipe', ...(options.extraStdio ?? [])],
  });
  child.stdin!.on('error', () => {}); // a child that exits before reading stdin is not an error here
  child.stdin!.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
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

/** The agent, as `node dist/healthcheck.cjs ...args`. */
export function startAgent(args: readonly string[], options?: RunOptions): Started {
  return start(process.execPath, [AGENT_BUNDLE, ...args], options);
}

export function runAgent(args: readonly string[], options?: RunOptions): Promise<Ended> {
  return startAgent(args, options).ended;
}
