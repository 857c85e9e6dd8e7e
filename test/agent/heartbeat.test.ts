import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createHeartbeat, type WriteToFd } from '../../src/agent/heartbeat.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

t.test('one JSON line per round on the descriptor', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-heartbeat-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'beats');
  const fd = openSync(file, 'w');
  t.teardown(() => closeSync(fd));
  const beat = createHeartbeat(fd);
  beat.round({ attempt: 1, passed: false, elapsedMs: 12.6, latencyMs: 1, lateMs: 0 });
  await settle();
  beat.round({ attempt: 2, passed: true, elapsedMs: 2012, latencyMs: 1, lateMs: 0 });
  await settle();
  const lines = readFileSync(file, 'utf8').split('\n');
  t.same(lines, ['{"attempt":1,"passed":false,"elapsedMs":13,"latencyMs":1}', '{"attempt":2,"passed":true,"elapsedMs":2012,"latencyMs":1}', '']);
  t.same(JSON.parse(lines[1] ?? ''), { attempt: 2, passed: true, elapsedMs: 2012, latencyMs: 1 });
});

t.test('write errors are swallowed: EPIPE, EAGAIN, EBADF, a synchronous throw', async (t) => {
  for (const code of ['EPIPE', 'EAGAIN']) {
    let calls = 0;
    const failing: WriteToFd = (_fd, _line, done) => {
      calls += 1;
      setImmediate(() => done(Object.assign(new Error(code), { code })));
    };
    const beat = createHeartbeat(3, failing);
    beat.round({ attempt: 1, passed: true, elapsedMs: 1, latencyMs: 1, lateMs: 0 });
    await settle();
    beat.round({ attempt: 2, passed: true, elapsedMs: 2, latencyMs: 1, lateMs: 0 });
    await settle();
    t.equal(calls, 2, `${code}: the next beat is still tried`);
  }
  const throwing = createHeartbeat(3, () => {
    throw new TypeError('bad fd');
  });
  t.doesNotThrow(() => throwing.round({ attempt: 1, passed: true, elapsedMs: 1, latencyMs: 1, lateMs: 0 }));
  const closed = openSync(new URL(import.meta.url), 'r');
  closeSync(closed);
  createHeartbeat(closed).round({ attempt: 1, passed: true, elapsedMs: 1, latencyMs: 1, lateMs: 0 });
  await settle();
  t.pass('a closed descriptor (EBADF) did not crash us');
});

t.test('a stuck reader: beats are dropped while one is pending, never queued', async (t) => {
  let calls = 0;
  let release!: () => void;
  const stuck: WriteToFd = (_fd, _line, done) => {
    calls += 1;
    release = () => done(null);
  };
  const beat = createHeartbeat(3, stuck);
  for (let i = 1; i <= 100; i++) beat.round({ attempt: i, passed: true, elapsedMs: i, latencyMs: 1, lateMs: 0 });
  t.equal(calls, 1);
  release();
  beat.round({ attempt: 101, passed: true, elapsedMs: 101, latencyMs: 1, lateMs: 0 });
  t.equal(calls, 2, 'writes resume once the pending one completes');
});

t.test('a real pipe whose reader is gone (EPIPE) does not crash us', async (t) => {
  // The child inherits the write end of a pipe as fd 3 and writes beats to it after the reader (us) closed it.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { createHeartbeat } = await import('./src/agent/heartbeat.ts');
       const beat = createHeartbeat(3);
       for (let i = 1; i <= 5; i++) { beat.round({ attempt: i, passed: true, elapsedMs: i, latencyMs: 1, lateMs: 0 }); await new Promise((r) => setTimeout(r, 100)); }
       console.log('alive');`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] },
  );
  t.teardown(() => child.kill('SIGKILL'));
  const beats = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  const [first] = (await once(beats, 'data')) as [Buffer];
  t.match(first.toString(), /^\{"attempt":1,"passed":true,"elapsedMs":1,"latencyMs":1\}\n/);
  beats.destroy();
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0);
  t.equal(out.trim(), 'alive');
});

/** A descriptor whose writes complete only when the test releases them. */
function slowWriter() {
  const lines: string[] = [];
  let done: ((err: null) => void) | undefined;
  const write: WriteToFd = (_fd, line, callback) => {
    lines.push(line);
    done = callback;
  };
  return { lines, write, release: () => done?.(null) };
}

t.test('the ready beat is never dropped: it waits for a beat in flight', async (t) => {
  const { lines, write, release } = slowWriter();
  const beat = createHeartbeat(3, write);
  beat.round({ attempt: 1, passed: true, elapsedMs: 5, latencyMs: 1, lateMs: 0 });
  beat.ready(6);
  t.equal(lines.length, 1, 'held while the round beat is in flight');
  release();
  t.same(lines, ['{"attempt":1,"passed":true,"elapsedMs":5,"latencyMs":1}\n', '{"ready":true,"elapsedMs":6}\n']);
});

t.test('EPIPE tells that the reader is gone; other errors do not', async (t) => {
  for (const [code, gone] of [['EPIPE', 1], ['EAGAIN', 0], ['EBADF', 0]] as const) {
    let told = 0;
    const failing: WriteToFd = (_fd, _line, done) => setImmediate(() => done(Object.assign(new Error(code), { code })));
    const beat = createHeartbeat(3, failing, () => (told += 1));
    beat.round({ attempt: 1, passed: true, elapsedMs: 1, latencyMs: 1, lateMs: 0 });
    await settle();
    t.equal(told, gone, code);
  }
});

t.test('a round that finds a beat in flight waits behind it, the latest one only: the first round is not lost to the booted line', async (t) => {
  const { lines, write, release } = slowWriter();
  const beat = createHeartbeat(3, write);
  beat.booted();
  beat.round({ attempt: 1, passed: true, elapsedMs: 1, latencyMs: 1, lateMs: 0 });
  beat.round({ attempt: 2, passed: true, elapsedMs: 2, latencyMs: 1, lateMs: 0 });
  release();
  t.same(lines, ['{"booted":true}\n', '{"attempt":2,"passed":true,"elapsedMs":2,"latencyMs":1}\n'], 'booted, then the latest round');
});

t.test('the round that made the app ready is not lost to the ready line: both wait, in order, behind a beat in flight', async (t) => {
  const { lines, write, release } = slowWriter();
  const beat = createHeartbeat(3, write);
  beat.booted();
  beat.round({ attempt: 1, passed: true, elapsedMs: 1, latencyMs: 1, lateMs: 0 });
  beat.ready(2);
  beat.round({ attempt: 2, passed: true, elapsedMs: 3, latencyMs: 1, lateMs: 0 });
  beat.round({ attempt: 3, passed: true, elapsedMs: 4, latencyMs: 1, lateMs: 0 });
  for (let i = 0; i < 4; i++) release();
  t.same(lines, [
    '{"booted":true}\n',
    '{"attempt":1,"passed":true,"elapsedMs":1,"latencyMs":1}\n',
    '{"ready":true,"elapsedMs":2}\n',
    '{"attempt":3,"passed":true,"elapsedMs":4,"latencyMs":1}\n',
  ], 'booted, the ready round, ready, then the latest round');
});
