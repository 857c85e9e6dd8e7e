// The lifecycle agent's ready file and its check, `--mode=is-ready`, with real agents: the probe a shell-less
// sidecar image runs on itself (docs/kubernetes.md). Ready only while a running agent's file says so; a file
// left behind by a killed agent, or by the previous run in a volume that outlives it, is not readiness.
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { httpServer } from '../checks/fixtures.js';
import { readDescriptor, runAgent, startAgent, type Started } from '../helpers/agent.js';

/** Resolves once the agent's stdout holds `text` (or rejects when it ends first). */
function said(agent: Started, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    agent.child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes(text)) resolve();
    });
    void agent.ended.then((ended) => reject(new Error(`agent ended (${ended.code}) before saying ${text}: ${ended.stdout}${ended.stderr}`)));
  });
}

t.test('is-ready follows a lifecycle agent: not yet, ready once it said so, not once it was killed', async (t) => {
  const port = await httpServer(t, (_req, res) => res.end());
  const file = join(t.testdir({}), 'ready');
  const before = await runAgent(['--mode=is-ready', '--ready-file', file]);
  t.equal(before.code, 1, 'no file: not ready');
  t.equal(before.stdout, `not ready: ${file} does not exist\n`);
  const agent = startAgent(['--mode=lifecycle', '--check', `http://127.0.0.1:${port}/`, '--startup-interval=50ms', '--interval=60s', '--ready-file', file, '--log-ready']);
  await said(agent, '\n');
  const ready = await runAgent(['--mode=is-ready', '--ready-file', file]);
  t.equal(ready.code, 0, 'ready while the agent runs');
  t.equal(ready.stdout + ready.stderr, '', 'and silent');
  agent.child.kill('SIGKILL');
  const killed = await agent.ended;
  t.match(killed.stdout, /^readiness passed after \d+\.\d\ds: liveness checks every 60s from now on\n$/, '--log-ready: one line when readiness passed');
  t.ok(existsSync(file), 'SIGKILL leaves the file behind');
  const after = await runAgent(['--mode=is-ready', '--ready-file', file]);
  t.equal(after.code, 1);
  t.equal(after.stdout, `not ready: ${file} names pid ${agent.child.pid}, which is not running\n`);
});

t.test('an agent starting removes the file a previous run left, even one naming a live pid (pid 1 again, in a container)', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const file = join(t.testdir({}), 'ready');
  // Our own pid stands for the restarted container's pid 1: alive, and not the agent that found the app ready.
  writeFileSync(file, `${process.pid}\n`);
  t.equal((await runAgent(['--mode=is-ready', '--ready-file', file])).code, 0, 'a live pid passes');
  const agent = startAgent(['--mode=lifecycle', '--check', `http://127.0.0.1:${port}/`, '--startup-interval=50ms', '--ready-file', file, '--heartbeat-fd=3'], { extraStdio: ['pipe'] });
  await readDescriptor(agent, 3, (text) => text.includes('\n'));
  const stale = await runAgent(['--mode=is-ready', '--ready-file', file]);
  t.equal(stale.code, 1, 'gone once the new agent has started, before its readiness');
  t.match(stale.stdout, 'does not exist');
  agent.child.kill('SIGTERM');
  t.equal((await agent.ended).code, 143);
});

t.test('is-ready refuses what it would ignore, and reads only a pid', async (t) => {
  const dir = t.testdir({ garbage: 'ready\n', empty: '' });
  for (const name of ['garbage', 'empty']) {
    const ended = await runAgent(['--mode=is-ready', '--ready-file', join(dir, name)]);
    t.equal(ended.code, 1, name);
    t.equal(ended.stdout, `not ready: ${join(dir, name)} holds no agent pid\n`);
  }
  for (const [args, message] of [
    [['--mode=is-ready'], '--mode=is-ready needs --ready-file <path>'],
    [['--mode=is-ready', '--ready-file', join(dir, 'x'), '--port', '8080'], '--mode=is-ready takes --ready-file only, not --port'],
    [['--mode=is-ready', '--ready-file', join(dir, 'x'), '--', 'true'], 'not a command after --'],
    [['--mode=once', '--log-ready', '--host', '127.0.0.1'], '--log-ready is for --mode=lifecycle only'],
    [['--mode=lifecycle', '--log-ready', '--json', '--host', '127.0.0.1'], '--log-ready cannot go with --json'],
    [['--mode=lifecycle', '--ready-file', '/nonexistent/dir/ready', '--host', '127.0.0.1'], "invalid --ready-file '/nonexistent/dir/ready'"],
  ] as const) {
    const ended = await runAgent(args);
    t.equal(ended.code, 2, args.join(' '));
    t.match(ended.stderr, message);
    t.equal(ended.stderr.trim().split('\n').length, 1, 'one line');
  }
});
