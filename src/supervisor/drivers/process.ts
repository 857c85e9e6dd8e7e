/**
 * The process driver: each instance is a child process in its own process group, started from an argv (never
 * through a shell), with every container port mapped to a free loopback port (free-ports.ts). Destroy signals the whole group,
 * so that whatever the app forked goes with it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Contained, type Containment, INSTANCE_ENV } from '../host/containment.js';
import { DEFAULT_OUTPUT, InstanceOutput } from '../host/output.js';
import { signalGroup, signalLeaderlessGroup } from '../../shared/signal.js';
import { isExitedChild, type TrackedProcess, trackProcess } from '../host/state-dir.js';
import type { Exit } from '../../shared/exit.js';
import type { AppSpec } from '../spec/types.js';
import type { Endpoint } from '../../probes/probe.js';
import { Deadline } from '../../checks/deadline.js';
import type { DestroyOutcome, Driver, LaunchRequest, LaunchResult, RunningInstance } from './driver.js';
import { PortPool } from './free-ports.js';
import { programFailure } from './program.js';

const HOST = '127.0.0.1';
/** How long an exit waits for the rest of stderr to be read, for the crash reason. */
const STDERR_TAIL_WAIT_MS = 100;

/** What every app child process of a supervisor shares (the process and netns drivers). */
export interface ChildSettings {
  readonly containment: Containment;
  /** Where `output: file` writes, one directory per app. */
  readonly outputDir: string;
}

/** An app child that has started, contained, its output read. */
interface Started {
  readonly child: ChildProcess;
  readonly contained: Contained;
  readonly output: InstanceOutput;
}

export class ProcessDriver implements Driver {
  private readonly ports = new PortPool(HOST);

  constructor(private readonly settings: ChildSettings) {}

  async launch({ instance, spec, onExit }: LaunchRequest): Promise<LaunchResult> {
    const [command, ...args] = spec.command ?? [];
    if (command === undefined) return { ok: false, reason: 'no command given' };
    const hostPorts = await this.ports.take(spec.ports.length);
    const ports = new Map(spec.ports.map((containerPort, i) => [containerPort, hostPorts[i] as number]));
    const started = await spawnApp([command, ...args], instance, spec, ports, this.settings);
    if (!started.ok) return started;
    return { ok: true, running: new ChildInstance(started.started, HOST, ports, onExit) };
  }

  /** A predecessor's instance cgroups; its marked processes are the state directory's to reap. */
  cleanup(): Promise<void> {
    return this.settings.containment.reap();
  }
}

/** An app child process in its own group, reachable at `host` on the mapped ports; the netns driver reuses it. */
export class ChildInstance implements RunningInstance {
  readonly pid: number;
  readonly address: string;
  readonly tracked: readonly TrackedProcess[];
  /** Where the instance's processes are, the app's own and whatever it forked. */
  readonly contained: Contained;
  private readonly output: InstanceOutput;
  private leaderGone = false;
  private readonly exit: Promise<void>;

  constructor(
    { child, contained, output }: Started,
    private readonly host: string,
    private readonly ports: ReadonlyMap<number, number>,
    onExit: (exit: Exit) => void,
  ) {
    this.contained = contained;
    this.output = output;
    this.pid = child.pid as number;
    const first = ports.values().next();
    this.address = `${host}:${first.done === true ? '' : first.value}`;
    const tracked = trackProcess('app', this.pid);
    this.tracked = tracked === undefined ? [] : [tracked];
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.leaderGone = true;
        const outOfMemory = contained.outOfMemory();
        void output.lastLines(STDERR_TAIL_WAIT_MS).then((stderr) => {
          const exit: Exit = { code, signal, ...(outOfMemory ? { outOfMemory } : {}), ...(stderr.length > 0 ? { stderr } : {}) };
          resolve();
          onExit(exit);
        });
      }),
    );
  }

  /**
   * From the leader's exit on: while it is a zombie not yet collected (its sockets closed already, which a check in
   * flight may see first), then while its last lines of stderr are awaited before onExit is told.
   */
  get exited(): boolean {
    return this.leaderGone || isExitedChild(this.pid);
  }

  endpoint(containerPort: number): Endpoint {
    // A port the spec does not map is taken as the app's own: it listens there itself.
    return { host: this.host, port: this.ports.get(containerPort) ?? containerPort };
  }

  async destroy(gracePeriodMs: number): Promise<DestroyOutcome> {
    let forced = false;
    if (!this.leaderGone) {
      signalGroup(this.pid, 'SIGTERM');
      // A stopped (SIGSTOP) process only acts on SIGTERM once it runs again.
      signalGroup(this.pid, 'SIGCONT');
      let killing: Promise<void> | undefined;
      const grace = new Deadline(gracePeriodMs, () => {
        forced = true;
        this.signalItsGroup('SIGKILL');
        // A process in a frozen v1 freezer cgroup acts on no signal until thawed: killAll thaws after its kills.
        // Its failure, if any, is the final killAll's to tell.
        killing = this.contained.killAll().catch(() => {});
      });
      await this.exit;
      grace.finish();
      await killing;
    }
    // The leader is gone; whatever it forked is an orphan now, in its group or out of it.
    signalLeaderlessGroup(this.pid, 'SIGKILL');
    await this.contained.killAll();
    this.output.close();
    return { forced };
  }

  /** The leader's group: once the leader is reaped (its last lines of stderr still awaited), only if it is still ours. */
  private signalItsGroup(name: NodeJS.Signals): void {
    (this.leaderGone ? signalLeaderlessGroup : signalGroup)(this.pid, name);
  }
}

/**
 * Starts an app's argv in its own process group and waits until it has started or failed to. The first item is
 * what runs, and what a failure names (`ip`, for an app started inside a network namespace).
 */
export async function spawnApp(
  argv: readonly [string, ...string[]],
  instance: string,
  spec: AppSpec,
  ports: ReadonlyMap<number, number>,
  { containment, outputDir }: ChildSettings,
): Promise<{ readonly ok: true; readonly started: Started } | { readonly ok: false; readonly reason: string; readonly permanent: boolean }> {
  const [program, ...args] = argv;
  // Not the supervisor's environment: an app sees what its spec gives it, plus PATH to find its command.
  const env = { PATH: process.env.PATH ?? '', ...spec.env, ...portEnv(ports), [INSTANCE_ENV]: instance };
  let contained: Contained;
  try {
    contained = containment.instance(instance, env, spec.limits ?? {});
  } catch (error) {
    return { ok: false, reason: `cannot create the instance's cgroup: ${(error as Error).message}`, permanent: false };
  }
  const output = spec.output ?? DEFAULT_OUTPUT;
  // stderr is read even when discarded: its last lines are the crash reason.
  const stdio = ['ignore', output.to === 'discard' ? 'ignore' : 'pipe', 'pipe'] as const;
  const { cwd, user } = spec;
  const child = contained.spawn(() =>
    spawn(program, args, {
      env,
      ...(cwd === undefined ? {} : { cwd }),
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      detached: true,
      stdio: [...stdio],
    }),
  );
  const started = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error: NodeJS.ErrnoException) => resolve(error));
  });
  try {
    // The app has barely begun (exec'ing, at most): the limits are in place before it does anything.
    contained.limit();
  } catch (error) {
    await started;
    await contained.killAll();
    return { ok: false, reason: `cannot apply the limits: ${(error as Error).message}`, permanent: false };
  }
  const failure = await started;
  if (failure !== undefined) {
    await contained.killAll();
    // A missing or non-executable program stays so: retrying it 200 times only fills the log.
    return { ok: false, reason: spawnFailure(program, failure), permanent: failure.code === 'ENOENT' || failure.code === 'EACCES' };
  }
  try {
    return { ok: true, started: { child, contained, output: new InstanceOutput(instance, output, outputDir, spec.name, child.stdout, child.stderr) } };
  } catch (error) {
    // No file for its output (a full disk, no descriptor left): the app does not run unheard.
    signalGroup(child.pid as number, 'SIGKILL');
    await contained.killAll();
    return { ok: false, reason: `cannot keep the app's output: ${(error as Error).message}`, permanent: false };
  }
}

export function portEnv(ports: ReadonlyMap<number, number>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [containerPort, hostPort] of ports) {
    env.PORT ??= String(hostPort);
    env[`PORT_${containerPort}`] = String(hostPort);
  }
  return env;
}

function spawnFailure(command: string, error: NodeJS.ErrnoException): string {
  return error.code === 'ENOENT' || error.code === 'EACCES' ? programFailure(command, error.code) : `cannot start ${command}: ${error.message}`;
}

