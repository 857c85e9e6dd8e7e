// The lifecycle mode end to end, through the built agent: readiness, a ready line on the heartbeat and a ready
// file, then liveness in the same process until a check fails; the file is gone once the agent has ended.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { readHeartbeat, type Heartbeat } from '../../src/protocol/heartbeat.js';
import { readJsonReport } from '../../src/protocol/report.js';
import { httpServer } from '../checks/fixtures.js';
import { AGENT_BUNDLE, start } from '../helpers/agent.js';

t.test('lifecycle: ready once every check passed, then liveness until the app fails', async (t) => {
  // 503 twice (not ready yet), then 200 for a while (ready, then live), then 500 for good.
  let hits = 0;
  const port = await httpServer(t, (_req, res) => {
    hits += 1;
    res.statusCode = hits <= 2 ? 503 : hits <= 6 ? 200 : 500;
    res.end();
  });
  const readyFile = join(t.testdir({}), 'ready');
  const args = ['--mode=lifecycle', '--check', `http://127.0.0.1:${port}/`, '--startup-interval=50ms', '--interval=100ms', '--ready-file', readyFile, '--json', '--heartbeat-fd=3'];
  const agent = start(process.execPath, [AGENT_BUNDLE, ...args], { extraStdio: ['pipe'] });
  const beats: Heartbeat[] = [];
  let fileWhenReady: boolean | undefined;
  createInterface({ input: agent.child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
    const beat = readHeartbeat(line);
    if (beat === undefined) return;
    if (beat.kind === 'ready') fileWhenReady = existsSync(readyFile);
    beats.push(beat);
  });
  const ended = await agent.ended;
  t.equal(ended.code, 6, 'exits with the failing check\'s code');
  // The order, whatever a loaded machine does to the rounds' timing: booted, readiness rounds failing until one
  // passes, ready, liveness rounds passing until one fails, and that one last.
  const kinds = beats.map((b) => (b.kind === 'round' ? b.passed : b.kind));
  const ready = kinds.indexOf('ready');
  t.equal(kinds[0], 'booted');
  t.same(kinds.slice(1, ready), [...kinds.slice(1, ready - 1).map(() => false), true], 'readiness: failures, then the pass');
  t.equal(kinds.at(-1), false, 'liveness ends with its failure');
  t.ok(kinds.slice(ready + 1, -1).every((k) => k === true) && ready > 0, 'liveness passed in between');
  t.equal(fileWhenReady, true, 'the ready file exists once readiness has passed');
  t.equal(existsSync(readyFile), false, 'and is gone once the agent has ended');
  const report = readJsonReport(ended.stdout);
  t.match(report, { passed: false, exitCode: 6, checks: [{ passed: false, lastError: { message: /received status code 500/ } }] });
});

t.test('lifecycle: a readiness timeout ends it before any liveness round', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const agent = start(process.execPath, [AGENT_BUNDLE, '--mode=lifecycle', '--check', `http://127.0.0.1:${port}/`, '--startup-interval=50ms', '--startup-timeout=300ms', '--json']);
  const ended = await agent.ended;
  t.equal(ended.code, 6);
  t.match(JSON.parse(ended.stdout), { mode: 'readiness', passed: false });
});

t.test('--ready-file and --readiness-check are for lifecycle only, and the file must be writable', async (t) => {
  for (const [args, message] of [
    [['--mode=readiness', '--ready-file', '/tmp/x'], '--ready-file is for --mode=lifecycle only'],
    [['--mode=liveness', '--readiness-check', 'tcp://127.0.0.1:1'], '--readiness-check is for --mode=lifecycle only'],
    [['--mode=lifecycle', '--ready-file', '/nonexistent/dir/ready'], "invalid --ready-file '/nonexistent/dir/ready'"],
  ] as const) {
    const ended = await start(process.execPath, [AGENT_BUNDLE, ...args, '--host', '127.0.0.1']).ended;
    t.equal(ended.code, 2, args.join(' '));
    t.match(ended.stderr, message);
    t.equal(ended.stderr.trim().split('\n').length, 1, 'one line');
  }
});
