/**
 * Oneshot probing: one `healthcheck --mode=once` process per round, spawned at every interval, as Diego ran its
 * health checks before sidecars. It is kept as the baseline that native probing is measured against (the
 * evacuation storm of bench:storm), and for platforms that want a fresh process per check. The loop is the
 * supervisor's (as for native probing); a round's results are the agent's --json report.
 * A oneshot agent is never tracked in the state directory: it lives one check timeout at most and then exits.
 */
import { formatDuration } from '../../checks/duration.js';
import { lifeguardError } from '../../checks/errors.js';
import type { CheckResult, CheckSpec } from '../../checks/types.js';
import { monotonicMs } from '../../checks/clock.js';
import { agentArgv } from '../../protocol/argv.js';
import { type AgentReport, readJsonReport } from '../../protocol/report.js';
import { describeExit, type Exit } from '../exit.js';
import { LocalAgentRunner } from './agent-process.js';
import { LoopProbe } from './loop-probe.js';

export class OneshotProbe extends LoopProbe {
  private readonly children = new Set<Promise<void>>();

  /** `agentPath`: the healthcheck executable, a .js/.cjs file run with this Node.js or a single executable. */
  constructor(agentPath: string) {
    const runner = new LocalAgentRunner(agentPath, false, [], false);
    super((checks, signal) => {
      const round = runOnce(runner, checks, signal);
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
function runOnce(runner: LocalAgentRunner, checks: readonly CheckSpec[], signal: AbortSignal): Promise<readonly CheckResult[]> {
  const started = monotonicMs();
  const timeoutMs = Math.max(...checks.map((check) => check.timeoutMs));
  return new Promise((resolve) => {
    let stdout = '';
    let why: string | undefined;
    const ended = (exit: Exit | undefined) => {
      clearTimeout(stuck);
      signal.removeEventListener('abort', onAbort);
      const report = why === undefined ? readJsonReport(stdout) : undefined;
      if (report !== undefined && report.checks.length === checks.length) return resolve(asResults(report, started));
      const detail = why ?? `health check agent ${exit === undefined ? 'never started' : describeExit(exit)} without a report`;
      resolve(checks.map(() => failure(started, detail)));
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
    const kill = (reason: string) => {
      why ??= reason;
      run.kill();
    };
    // No news is not good news: an agent that gives no verdict in time is killed and the round fails.
    const allowedMs = timeoutMs + runner.startupAllowanceMs;
    const stuck = setTimeout(() => kill(`health check agent (${run.describe()}) gave no verdict in ${formatDuration(allowedMs)}: killed`), allowedMs);
    const onAbort = () => kill('check cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function asResults(report: AgentReport, started: number): CheckResult[] {
  return report.checks.map((check) => {
    const latencyMs = check.lastLatencyMs ?? monotonicMs() - started;
    if (check.passed) return { passed: true, latencyMs };
    return { passed: false, latencyMs, error: check.lastError ?? lifeguardError('internal', { detail: 'the agent reported a failure without an error' }) };
  });
}

function failure(started: number, detail: string): CheckResult {
  return { passed: false, latencyMs: monotonicMs() - started, error: lifeguardError('internal', { detail }) };
}
