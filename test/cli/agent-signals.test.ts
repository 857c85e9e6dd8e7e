// The agent's signal modes, in a process of its own (AgentSignals takes every terminating signal): while a gated
// command runs, a signal goes on to the command's group; once the command has ended (reaped: its group id may be
// given to another process by then), nothing is passed on.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { ROOT } from '../helpers/executable.js';

/** Runs AgentSignals forwarding to `group`, told first that the command ended or not, then signals itself. */
async function signalSelf(group: number, commandEnded: boolean): Promise<void> {
  const script = [
    "import { AgentSignals } from './src/cli/agent-signals.ts';",
    'const signals = new AgentSignals(() => {});',
    `signals.forwardTo(${group});`,
    commandEnded ? 'signals.commandEnded();' : '',
    "process.kill(process.pid, 'SIGHUP');",
    'setTimeout(() => process.exit(0), 200);',
  ].join('\n');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 });
}

/** A process leading a group of its own, as a gated command does (and as a stranger given its id would). */
function groupLeader(t: Test): ChildProcess {
  const leader = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
  t.teardown(() => void leader.kill('SIGKILL'));
  return leader;
}

async function ended(child: ChildProcess): Promise<NodeJS.Signals | null> {
  for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) await sleep(10);
  return child.signalCode;
}

t.test("while the command runs, a signal goes on to the command's group", async (t) => {
  const command = groupLeader(t);
  await signalSelf(command.pid as number, false);
  t.equal(await ended(command), 'SIGHUP');
});

t.test('once the command has ended, a signal goes to no one', async (t) => {
  const stranger = groupLeader(t);
  await signalSelf(stranger.pid as number, true);
  t.equal(await ended(stranger), null, 'the process now leading that group id lives on');
});
