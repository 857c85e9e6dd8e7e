/**
 * Oneshot probing: one `healthcheck --mode=once` process per round, spawned at every interval, as Diego ran its
 * health checks before sidecars. It is kept as the baseline that native probing is measured against (the
 * evacuation storm of bench:storm), and for platforms that want a fresh process per check. The loop is the
 * supervisor's (as for native probing); a round's results are the agent's --json report.
 * A oneshot agent is never tracked in the state directory: it lives one check timeout at most and then exits.
 */
import { formatDuration } from '../checks/duration.js';
import { lifeguardError } from '../checks/errors.js';
import { checkCancelled } from '../checks/reason.js';
import type { CheckResult, CheckSpec } from '../checks/types.js';
import { type Clock, realClock } from '../checks/clock.js';
import { Deadline } from '../checks/deadline.js';
import { agentArgv } from '../protocol/argv.js';
import { type AgentReport, readJsonReport } from '../protocol/report.js';
import { describeExit, type Exit } from '../shared/exit.js';
import { LocalAgentRunner } from './agent-process.js';
import type { AgentRunner } from './agent-runner.js';
import { LoopProbe } from './loop-probe.js';

export class OneshotProbe extends LoopProbe {
  private readonly children = new Set<Promise<void>>();

  /**
   * `runner`: how an agent is started — `oneshotRunner(agentPath)` on this machine.
   * `clock`: the loop's, and each agent's deadline's.
   */
  constructor(runner: AgentRunner, clock: Clock = realClock) {
    super((checks, scope, done) => {
      // A process is stopped by an AbortSignal: the scope makes one for it.
      const round = runOnce(runner, clock, checks, scope.signal);
      const gone = round.then(done);
      this.children.add(gone);
      void gone.then(() => this.children.delete(gone));
    }, clock);
  }

  /** Cancels every probe, then waits until every agent process it spawned has been reaped. */
  override async close(): Promise<void> {
    await super.close();
    await Promise.all(this.children);
  }
}

/**
 * A local agent without a heartbeat: a oneshot agent says all in its report. `agentPath`: the healthcheck
 * executable, a .js/.cjs file run with this Node.js or a single executable.
 */
export function oneshotRunner(agentPath: string): AgentRunner {
  return new LocalAgentRunner(agentPath, { heartbeat: false });
}

/** One agent process for one round; resolves once it has been reaped, with one result per check. */
function runOnce(runner: AgentRunner, clock: Clock, checks: readonly CheckSpec[], signal: AbortSignal): Promise<readonly CheckResult[]> {
  const started = clock.now();
  const timeoutMs = Math.max(...checks.map((check) => check.timeoutMs));
  return new Promise((resolve) => {
    let stdout = '';
    let why: string | undefined;
    const ended = (exit: Exit | undefined) => {
      deadline.finish();
      const latencyMs = clock.now() - started;
      if (deadline.outcome === 'cancelled') return resolve(checks.map(() => ({ passed: false, latencyMs, error: checkCancelled() })));
      const report = why === undefined ? readJsonReport(stdout) : undefined;
      if (report !== undefined && report.checks.length === checks.length) return resolve(asResults(report, latencyMs));
      const detail = why ?? `health check agent ${exit === undefined ? 'never started' : describeExit(exit)} without a report`;
      resolve(checks.map(() => failure(latencyMs, detail)));
    };
    const run = runner.start(agentArgv({ mode: 'once', checks }), {
      line: () => {},
      stdout: (text) => (stdout += text),
      stderr: () => {},
      exited: ended,
      failed: (reason) => {
        why ??= reason;
        if (run.pid === null) ended(undefined);
      },
    });
    // No news is not good news: an agent that gives no verdict in time is killed and the round fails.
    const allowedMs = timeoutMs + runner.startupAllowanceMs;
    const deadline = new Deadline(allowedMs, (end) => {
      if (end === 'expired') why ??= `health check agent (${run.describe()}) gave no verdict in ${formatDuration(allowedMs)}: killed`;
      run.kill();
    }, { clock, cancel: signal });
  });
}

/** `roundMs`: the round's time, for a check the agent gave no latency of its own. */
function asResults(report: AgentReport, roundMs: number): CheckResult[] {
  return report.checks.map((check) => {
    const latencyMs = check.lastLatencyMs ?? roundMs;
    if (check.passed) return { passed: true, latencyMs };
    return { passed: false, latencyMs, error: check.lastError ?? lifeguardError('internal', { detail: 'the agent reported a failure without an error' }) };
  });
}

function failure(latencyMs: number, detail: string): CheckResult {
  return { passed: false, latencyMs, error: lifeguardError('internal', { detail }) };
}
