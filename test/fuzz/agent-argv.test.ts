// Agent argv fuzzing in all three dialects, seeded (LIFEGUARD_SEED): 20,000 vectors through the parsing and dispatch the entry point
// uses (in-process: spawning that many is minutes of CPU), then a few hundred spawned end to end inside a network
// namespace of their own (only loopback: whatever a vector checks, no packet leaves it), each with a hard limit.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import t from 'tap';
import { asLifeguardError, isDocumentedExitCode, LifeguardFailure } from '../../src/checks/errors.js';
import { parseAgentArgs } from '../../src/cli/agent-args.js';
import { AGENT_COMMAND, run } from '../helpers/agent.js';
import { seedFromEnv } from '../reliability/seed.js';
import { agentArgv } from './argv.js';
import { getenvOf } from '../helpers/getenv.js';

const seed = seedFromEnv(20_000);
const IN_PROCESS = 20_000;
const SPAWNED = 150;
const STACK_FRAME = /^\s+at .+[(:]\d+/m;
// 150 spawned agents on a loaded 2-core machine take about 2 minutes: more than tap's default of 120s per file.
t.setTimeout(360_000);

t.test(`seed ${seed}: ${IN_PROCESS} vectors parse to an invocation or a one-line usage error`, async (t) => {
  const outcomes = { run: 0, print: 0, 'is-ready': 0, usage: 0 };
  await fc.assert(
    fc.asyncProperty(agentArgv(false), async (argv) => {
      try {
        const invocation = await parseAgentArgs(argv, getenvOf({ PORT: '8080' }));
        outcomes[invocation.kind] += 1;
        if (invocation.kind === 'run') {
          const { checks, intervalMs } = invocation.options;
          // A CF -port is Go's string, dialed (and failed) at check time: what it resolved to may be 0. A gRPC check
          // of a Unix socket (grpc-health-probe's unix: targets) has no port.
          const unix = (c: (typeof checks)[number]) => c.kind === 'grpc' && c.unixSocket !== undefined && c.unixSocket !== '';
          const lowest = (c: (typeof checks)[number]) => (c.portText === undefined && !unix(c) ? 1 : 0);
          return checks.length > 0 && intervalMs > 0 && checks.every((c) => c.port >= lowest(c) && c.port <= 65535 && c.timeoutMs > 0);
        }
        return true;
      } catch (thrown) {
        outcomes.usage += 1;
        const error = asLifeguardError(thrown);
        // grpc-health-probe's dialect exits 1 for invalid arguments, the others 2.
        const usageCode = error.code === 'probe-usage' ? 1 : 2;
        return thrown instanceof LifeguardFailure && error.exitCode === usageCode && !error.message.includes('\n') && error.message.length > 0;
      }
    }),
    { seed, numRuns: IN_PROCESS },
  );
  t.pass(`runs ${outcomes.run}, help/version ${outcomes.print}, usage errors ${outcomes.usage}`);
});

// A namespace of its own needs root; elsewhere the in-process part still runs.
const netns = spawnSync('unshare', ['-n', 'true']).status === 0;

t.test(`seed ${seed}: ${SPAWNED} vectors spawned end to end: a documented code, no stack trace, no hang`, { skip: netns ? false : 'needs unshare -n (root)' }, async (t) => {
  // execve cannot carry a NUL byte: such vectors exist only in-process.
  const vectors = fc.sample(agentArgv(true).filter((argv) => !argv.some((arg) => arg.includes('\0'))), { seed, numRuns: SPAWNED });
  const codes = new Map<number | string, number>();
  const bad: string[] = [];
  // Two at a time: the box has two cores, and each vector is a Node.js start.
  for (let i = 0; i < vectors.length; i += 2) {
    const ended = await Promise.all(
      vectors.slice(i, i + 2).map(async (argv) => ({ argv, ended: await runAgentInNetns(argv) })),
    );
    for (const { argv, ended: e } of ended) {
      const code = e.code ?? `signal ${e.signal}`;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const documented = e.code === 0 || (e.code !== null && (isDocumentedExitCode(e.code) || e.code > 128));
      if (!documented || e.signal !== null || STACK_FRAME.test(e.stderr)) bad.push(`${JSON.stringify(argv)} -> ${code}: ${e.stderr.slice(0, 200)}`);
    }
  }
  t.same(bad, [], `exit codes: ${[...codes].map(([c, n]) => `${c}×${n}`).join(', ')}`);
});

/** The agent in a fresh network namespace with loopback up, SIGKILLed after 10s (which fails the vector). */
function runAgentInNetns(argv: readonly string[]) {
  // The shell only brings lo up and execs the agent; the vector reaches the agent as argv, never the shell.
  return run('unshare', ['-n', 'sh', '-c', 'ip link set lo up 2>/dev/null; exec "$0" "$@"', ...AGENT_COMMAND, ...argv], { killAfterMs: 10_000 });
}
