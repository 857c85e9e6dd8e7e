/**
 * Oneshot probing: one `healthcheck --mode=once` process per round, spawned at every interval, as Diego ran its
 * health checks before sidecars. It is kept as the baseline that native probing is measured against (the
 * evacuation storm of bench:storm), and for platforms that want a fresh process per check. The supervisor keeps
 * the clock and judges each round as native probing does; the round's results are the agent's --json report.
 * A oneshot agent is never tracked in the state directory: it lives one check timeout at most and then exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { formatDuration } from '../../checks/duration.js';
import { type JsonCheckReport, readJsonChecks } from '../../agent/report.js';
import { lifeguardError } from '../../checks/errors.js';
import { formatTarget } from '../../checks/target.js';
import type { CheckResult, CheckSpec } from '../../checks/types.js';
import { describeExit } from '../drivers/driver.js';
import { signalGroup } from '../state-dir.js';
import { ScheduledProbe } from './scheduled.js';

/** On top of the check timeout: the agent's own start (Node.js boot), which a loaded machine slows. */
const AGENT_STARTUP_MS = 2000;

export class OneshotProbe extends ScheduledProbe {
  private readonly children = new Set<Promise<void>>();

  /** `agentPath`: the healthcheck executable, a .js/.cjs file run with this Node.js or a single executable. */
  constructor(agentPath: string) {
    super((checks, signal) => {
      const round = runOnce(agentPath, checks, signal);
      const gone = round.then(() => undefined);
      this.children.add(gone);
      void gone.then(() => this.children.delete(gone));
      return round;
    });
  }

  /** Cancels every probe, then waits until every agent process it spawned has been reaped. */
  override async close(): Promise<void> {
    await super.close();
    await Promise.all(this.children);
  }
}

/** One agent process for one round; resolves once it has been reaped, with one result per check. */
function runOnce(agentPath: string, checks: readonly CheckSpec[], signal: AbortSignal): Promise<readonly CheckResult[]> {
  // The agent takes one --timeout for all its checks; the longest keeps every check's own budget.
  const timeoutMs = Math.max(...checks.map((check) => check.timeoutMs));
  const args = ['--mode=once', ...checks.flatMap((check) => ['--check', formatTarget(check)]), `--timeout=${formatDuration(timeoutMs)}`, '--json'];
  const [command, argv] = /\.[cm]?js$/.test(agentPath) ? [process.execPath, [agentPath, ...args]] : [agentPath, args];
  const started = performance.now();
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // Its own group, so that a kill reaches whatever it is doing; no environment beyond PATH, as for a sidecar.
      child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'ignore'], detached: true, env: { PATH: process.env.PATH ?? '' } });
    } catch (error) {
      return resolve(checks.map(() => failure(started, `cannot start health check agent ${agentPath}: ${(error as Error).message}`)));
    }
    let stdout = '';
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) signalGroup(child.pid, 'SIGKILL');
    };
    // No news is not good news: an agent that gives no verdict in time is killed and the round fails.
    const stuck = setTimeout(() => kill(`health check agent (pid ${child.pid ?? '?'}) gave no verdict in ${formatDuration(timeoutMs + AGENT_STARTUP_MS)}: killed`), timeoutMs + AGENT_STARTUP_MS);
    const onAbort = () => kill('check cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    const ended = (exit: { code: number | null; signal: NodeJS.Signals | null }) => {
      clearTimeout(stuck);
      signal.removeEventListener('abort', onAbort);
      const reported = why === undefined ? reportedChecks(stdout, checks.length) : undefined;
      if (reported !== undefined) return resolve(reported.map((check) => asResult(check, started)));
      resolve(checks.map(() => failure(started, why ?? `health check agent ${describeExit(exit)} without a report`)));
    };
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.on('close', (code, signalName) => ended({ code, signal: signalName }));
    child.on('error', (error) => {
      why ??= `cannot start health check agent ${agentPath}: ${error.message}`;
      // A process that never started (ENOENT, EMFILE) sends no 'close'.
      if (child.pid === undefined) ended({ code: null, signal: null });
    });
  });
}

/** The agent's report on this round's checks, or undefined when it is missing or does not match the round. */
function reportedChecks(stdout: string, count: number): readonly JsonCheckReport[] | undefined {
  const checks = readJsonChecks(stdout);
  return checks?.length === count ? checks : undefined;
}

function asResult(check: JsonCheckReport, started: number): CheckResult {
  const latencyMs = check.lastLatencyMs ?? performance.now() - started;
  if (check.passed) return { passed: true, latencyMs };
  return { passed: false, latencyMs, error: check.lastError ?? lifeguardError('internal', { detail: 'the agent reported a failure without an error' }) };
}

function failure(started: number, detail: string): CheckResult {
  return { passed: false, latencyMs: performance.now() - started, error: lifeguardError('internal', { detail }) };
}
