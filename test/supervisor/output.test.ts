// The app's output (README "The app's output"): kept in bounded, rotated files or prefixed on the supervisor's
// stderr, the last lines of stderr in the crash reason, and a flood that neither fills the disk nor holds up the
// transitions of another app.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Containment } from '../../src/supervisor/host/containment.js';
import { ProcessDriver } from '../../src/supervisor/drivers/process.js';
import { lastLines } from '../../src/supervisor/host/output.js';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { tempDir } from '../helpers/temp-dir.js';
import { appSpec, ensureAgent, ROOT, supervise, to } from './harness.js';

ensureAgent();

const FLOOD_APP = join(ROOT, 'test/fixtures/flood.mjs');

t.test('the crash reason ends with the last lines of stderr', async (t) => {
  const script = `console.log('to stdout'); for (let i = 1; i <= 7; i++) console.error('problem ' + i); process.exit(2)`;
  const { until } = await supervise(t, [appSpec('native', { command: [process.execPath, '-e', script] })]);
  const crashed = await until(to('crashed', 'web-1'));
  t.equal(crashed.reason, 'exited with code 2; stderr: problem 3 | problem 4 | problem 5 | problem 6 | problem 7');
});

t.test('discarded output still gives the crash its stderr', async (t) => {
  const script = `console.error('config.json: no such file'); process.exit(3)`;
  const { stateDir, until } = await supervise(t, [appSpec('native', { command: [process.execPath, '-e', script], output: { to: 'discard', maxBytes: 1024 } })]);
  const crashed = await until(to('crashed', 'web-1'));
  t.equal(crashed.reason, 'exited with code 3; stderr: config.json: no such file');
  t.notOk(existsSync(join(stateDir, 'output')), 'nothing written');
});

t.test('file: both streams in the state directory, per app and instance', async (t) => {
  const script = `console.log('hello out'); console.error('hello err'); setTimeout(() => process.exit(1), 50)`;
  const { stateDir, until } = await supervise(t, [appSpec('native', { command: [process.execPath, '-e', script] })]);
  await until(to('crashed', 'web-1'));
  t.equal(readFileSync(join(stateDir, 'output', 'web', 'web-1.log'), 'utf8').split('\n').sort().join(' '), ' hello err hello out');
});

t.test('lastLines: whole non-empty lines, at most five, each cut', async (t) => {
  t.same(lastLines(Buffer.from('a\n\nb\r\n')), ['a', 'b']);
  t.same(lastLines(Buffer.from(`${'x'.repeat(400)}\n`)), [`${'x'.repeat(300)}…`]);
  t.same(lastLines(Buffer.from('1\n2\n3\n4\n5\n6\n7')), ['3', '4', '5', '6', '7']);
});

t.test('lastLines: the line that says what went wrong leads, when the end of the tail is a dump', async (t) => {
  // What Node prints for an unhandled EADDRINUSE: the error line, its stack, then the error's fields.
  const node = `node:events:497\n      throw er; // Unhandled 'error' event\n      ^\n\nError: listen EADDRINUSE: address already in use 127.0.0.1:8080
    at Server.setupListenHandle [as _listen2] (node:net:1908:16)\n    at listenInCluster (node:net:1965:12)\nEmitted 'error' event on Server instance at:
    at emitErrorNT (node:net:1944:8) {\n  code: 'EADDRINUSE',\n  errno: -98,\n  syscall: 'listen',\n  address: '127.0.0.1',\n  port: 8080\n}\n\nNode.js v20.20.2\n`;
  t.same(lastLines(Buffer.from(node)), ['Error: listen EADDRINUSE: address already in use 127.0.0.1:8080', "  address: '127.0.0.1',", '  port: 8080', '}', 'Node.js v20.20.2']);
  t.same(lastLines(Buffer.from('panic: boom\n\tgoroutine 1\n2\n3\n4\n5\n6')), ['panic: boom', '3', '4', '5', '6'], "Go's panic");
  t.same(lastLines(Buffer.from('a\nb\nTypeError: x\nc')), ['a', 'b', 'TypeError: x', 'c'], 'among the last lines already: as they are');
});

t.test('stderr: lines prefixed with the instance on the supervisor\'s stderr', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'lifeguard.json');
  const script = `console.log('one'); console.error('two'); setInterval(() => {}, 1000)`;
  writeFileSync(config, JSON.stringify({
    apps: [{ name: 'talk', command: [process.execPath, '-e', script], checks: [{ tcp_check: { port: 8080 } }], output: { to: 'stderr' }, startTimeout: '0', gracePeriod: '1s' }],
    stateDir: join(dir, 'state'),
  }));
  const child = spawn(process.execPath, [join(ROOT, 'bin/lifeguard.js'), 'run', config, '--duration', '2s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  t.match(stderr, /^\[talk-1\] one$/m);
  t.match(stderr, /^\[talk-1\] two$/m);
});

t.test('a flood of output: files stay bounded, and another app\'s transitions keep coming', async (t) => {
  const maxBytes = 1024 * 1024;
  const base = appSpec('native');
  // An app busy writing answers late: a patient check, so that the flood is the only thing under test.
  const patient = base.checks.map((check) => ({ ...check, timeoutMs: 5000 }));
  const flood = appSpec('native', {
    name: 'flood', command: [process.execPath, FLOOD_APP], env: { FLOOD_MBPS: '60', FLOOD_SECONDS: '4' }, output: { to: 'file', maxBytes },
    checks: patient, readinessChecks: patient, livenessIntervalMs: 2000,
  });
  // A shell, not node, so that a loaded machine's slow node start-ups do not pass for a starved supervisor.
  const crasher = appSpec('native', {
    name: 'crasher', command: ['/bin/sh', '-c', 'sleep 0.3; exit 1'],
    restart: { immediate: 1000, backoffMinMs: 0, backoffMaxMs: 0, maxRestarts: 1000, resetAfterMs: 60_000 },
  });
  const { stateDir, transitions, until } = await supervise(t, [flood, crasher]);
  await until(to('healthy', 'flood-1'));
  const floodStarted = Date.now();
  const crashesBefore = transitions.filter((x) => x.app === 'crasher' && x.to === 'crashed').length;
  // Bounded wait: the flood lasts 4s.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const during = transitions.filter((x) => x.app === 'crasher' && x.to === 'crashed' && Date.parse(x.time) >= floodStarted);
  t.ok(during.length >= 3, `the crasher's transitions kept coming during the flood (${during.length} crashes, ${crashesBefore} before)`);
  const dir = join(stateDir, 'output', 'flood');
  const files = readdirSync(dir).sort();
  t.same(files, ['flood-1.log', 'flood-1.log.1'], 'one file and one rotated file', { transitions: transitions.filter((x) => x.app === 'flood').map((x) => `${x.to} ${x.reason ?? ''}`) });
  for (const file of files) t.ok(statSync(join(dir, file)).size <= maxBytes, `${file} is within maxSize`);
  t.match(readFileSync(join(dir, 'flood-1.log'), 'utf8'), /^line \d{10} x{100}$/m, 'the app\'s lines, as written');
});

t.test('no file for the output: the start fails with a reason, and the app does not run unheard', async (t) => {
  const dir = tempDir(t);
  const notADir = join(dir, 'output');
  writeFileSync(notADir, '');
  const pidFile = join(dir, 'app.pid');
  const script = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`;
  const driver = new ProcessDriver({ containment: new Containment(dir, 'environ'), outputDir: notADir });
  const result = await driver.launch({ instance: 'web-1', spec: appSpec('native', { command: [process.execPath, '-e', script] }), onExit: () => {} });
  t.match(result, { ok: false, reason: /^cannot keep the app's output: ENOTDIR/ });
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (existsSync(pidFile)) t.notOk(isRunning(Number(readFileSync(pidFile, 'utf8'))), 'the app was killed');
});
