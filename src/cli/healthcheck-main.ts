/**
 * The agent's entry point, bundled into dist/healthcheck.cjs: pick the dialect, parse, run, tell, exit.
 * Whatever goes wrong ends as one line on stderr and a documented exit code, never a stack trace.
 * node:fs and the heartbeat are loaded only by the agents that use them (a ready file, a supervisor): every
 * module loaded at start costs each start (`npm run bench:agent` measures it).
 */
import './early-signals.js';
import { runAgent } from '../agent/run-agent.js';
import { CancelScope } from '../checks/cancel.js';
import { asLifeguardError } from '../checks/errors.js';
import { checkCancelled } from '../checks/reason.js';
import { parseAgentArgs } from './agent-args.js';
import { AgentSignals } from './agent-signals.js';
import type { Told } from './invocation.js';
import { writeWithin } from './last-words.js';

/** What a signal or a lost supervisor cancels: a scope rather than an AbortController, which costs a start about 10 page faults. */
const cancel = new CancelScope();
const PARENT_POLL_MS = 1000;

async function main(argv: readonly string[]): Promise<void> {
  // A signal cancels what is in flight and leaves at once: a supervisor that stops the agent must not wait on a check.
  const signals = new AgentSignals(() => cancel.cancel());
  const invocation = await parseAgentArgs(argv, (name) => process.env[name]);
  if (invocation.kind === 'print') return finish(invocation.told, invocation.told.exitCode ?? 0);
  if (invocation.kind === 'is-ready') {
    const problem = (await import('./ready-file.js')).readyFileProblem(invocation.readyFile);
    return finish(problem === undefined ? {} : { stdout: `${problem.message}\n` }, problem?.exitCode ?? 0);
  }
  const { heartbeatFd, readyFile, logReady, command } = invocation;
  const heartbeat = heartbeatFd === undefined ? undefined : (await import('../agent/heartbeat.js')).createHeartbeat(heartbeatFd, undefined, supervisorGone);
  const ready = readyFile === undefined ? undefined : await import('./ready-file.js');
  if (readyFile !== undefined) ready?.claimReadyFile(readyFile);
  if (heartbeatFd !== undefined) watchParent();
  heartbeat?.booted();
  const outcome = await runAgent(invocation.options, {
    signal: cancel,
    ...(heartbeat === undefined ? {} : { onRound: heartbeat.round }),
    onReady: (elapsedMs) => {
      heartbeat?.ready(elapsedMs);
      if (readyFile !== undefined) ready?.markReady(readyFile);
      if (logReady === true) void write({ stdout: readyLine(elapsedMs, invocation.options.intervalMs) });
    },
  });
  const told = invocation.tell(outcome);
  if (command === undefined || !outcome.passed) return finish(told, told.exitCode ?? outcome.exitCode);
  await write(told);
  const { endAsCommand, runCommand } = await import('./run-command.js');
  const end = await runCommand(command, signals);
  if (end.kind === 'not-started') return finish({ stderr: `${end.error.message}\n` }, end.error.exitCode);
  endAsCommand(end);
}

/** How long what there is to say may take to drain: a reader that never reads (a full pipe) must not withhold the exit code. */
const FLUSH_DEADLINE_MS = 500;

/** Writes what there is to say (see last-words.ts); nothing to say touches no stream. */
function write(told: Told): Promise<void> {
  return told.stdout || told.stderr ? writeWithin(told, FLUSH_DEADLINE_MS) : Promise.resolve();
}

/**
 * The supervisor that reads our heartbeat is gone (its pipe broke): no one acts on what we find, so end at once,
 * with the exit code of a cancelled check (not a verdict on the app).
 */
function supervisorGone(): void {
  cancel.cancel();
  process.exit(checkCancelled().exitCode);
}

/**
 * A supervised agent whose parent died is re-parented (to init or a subreaper): end then too, even in a phase
 * that writes no heartbeat for a while (a long interval), rather than wait for the next write to fail.
 * Inside a container the agent's parent is the container's runtime, which outlives it; ppid then never changes.
 */
function watchParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) supervisorGone();
  }, PARENT_POLL_MS).unref();
}

/** `--log-ready`: the one line a lifecycle agent says while all is well. */
function readyLine(elapsedMs: number, intervalMs: number): string {
  return `readiness passed after ${(elapsedMs / 1000).toFixed(2)}s: liveness checks every ${intervalMs / 1000}s from now on\n`;
}

/**
 * Writes what there is to say, then exits once it is flushed (or its deadline passes), whatever sockets or timers
 * are left. The streams are touched only when there is something to write: a passing check says nothing, and even
 * the cheapest writer costs a start something (last-words-bun.ts: about 20 page faults).
 */
function finish(told: Told, exitCode: number): void {
  process.exitCode = exitCode;
  void write(told).then(() => process.exit(exitCode));
}

/** Anything thrown, here or in a stray callback: one line and its exit code (127 unless it is a usage error). */
function fail(thrown: unknown): void {
  const error = asLifeguardError(thrown);
  finish({ stderr: `${error.message}\n` }, error.exitCode);
}

process.on('uncaughtException', fail);
main(process.argv.slice(2)).catch(fail);
