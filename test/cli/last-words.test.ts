// The agent's last words (src/cli/last-words.ts, and last-words-bun.ts in the executable) on the descriptors it is
// really handed: pipes (FIFOs, as a shell's `|` or a supervisor gives), a regular file, a terminal. Whatever the
// reader does, the exit code comes, what fitted is written, and the description shared with the parent is left as
// it was. Run against the Node bundle, and against the executable by `npm run test:executable`.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AGENT_COMMAND, run, runAgent, type RunOptions } from '../helpers/agent.js';
import { fifo } from '../helpers/fifo.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Past the 500 ms flush deadline, with room for a loaded machine's start: a withheld exit code is SIGKILLed here. */
const KILL_AFTER_MS = 15_000;

/** A failing native one-shot: its report goes to stdout, exit 4. */
const nativeFailure = (port: number, checks = 1): string[] => ['--mode=once', ...Array.from({ length: checks }, () => ['--check', `tcp://127.0.0.1:${port}`]).flat()];
/** A failing grpc-health-probe check: one line on stderr, exit 2. */
const grpcFailure = (port: number): string[] => [`-addr=127.0.0.1:${port}`];
const GRPC_LINE = (port: number): string => `error: failed gRPC health check of 127.0.0.1:${port}: connect: connection refused\n`;

const agent = (args: readonly string[], options: RunOptions) => runAgent(args, { killAfterMs: KILL_AFTER_MS, ...options });

t.test('a pipe read: everything arrives, on stdout and stderr, and the pipe is left blocking', async (t) => {
  const dir = tempDir(t);
  const refused = await closedPort();
  const out = fifo(t, dir, 'out');
  const native = await agent(nativeFailure(refused), { stdout: out.fd });
  t.equal(native.code, 4);
  t.match(out.unread(), new RegExp(`^once failed after [0-9.]+s \\(1 attempt\\): 1 of 1 check failed\\nfailed to make TCP connection to 127\\.0\\.0\\.1:${refused}: [^\\n]+\\n$`));
  t.notOk(out.nonBlocking(), 'stdout: O_NONBLOCK not left on the description the parent shares');
  const err = fifo(t, dir, 'err');
  const grpc = await agent(grpcFailure(refused), { stderr: err.fd });
  t.equal(grpc.code, 2);
  t.equal(err.unread(), GRPC_LINE(refused));
  t.notOk(err.nonBlocking(), 'stderr: O_NONBLOCK not left on the description the parent shares');
});

t.test('a full pipe nobody reads: the exit code comes all the same, the pipe left blocking', async (t) => {
  const dir = tempDir(t);
  const refused = await closedPort();
  const out = fifo(t, dir, 'out', { full: true });
  const native = await agent(nativeFailure(refused), { stdout: out.fd });
  t.same([native.code, native.signal], [4, null], 'exit 4, not killed');
  t.equal(out.unread(), '', 'nothing fitted');
  t.notOk(out.nonBlocking(), 'stdout left blocking');
  const err = fifo(t, dir, 'err', { full: true });
  const grpc = await agent(grpcFailure(refused), { stderr: err.fd });
  t.same([grpc.code, grpc.signal], [2, null], 'exit 2, not killed');
  t.equal(err.unread(), '');
  t.notOk(err.nonBlocking(), 'stderr left blocking');
});

t.test('a pipe with room for 4096 bytes and a longer report: those 4096 bytes are its start, the exit code comes', async (t) => {
  const dir = tempDir(t);
  const refused = await closedPort();
  const out = fifo(t, dir, 'out', { full: true, room: 4096 });
  const ended = await agent(nativeFailure(refused, 200), { stdout: out.fd });
  t.same([ended.code, ended.signal], [4, null]);
  const written = out.unread();
  t.equal(Buffer.byteLength(written), 4096, 'what fitted was written');
  t.match(written, new RegExp(`^once failed after [0-9.]+s \\(1 attempt\\): 200 of 200 checks failed\\n(failed to make TCP connection to 127\\.0\\.0\\.1:${refused}: [^\\n]+\\n)+failed`));
});

t.test('a pipe whose reader is gone (EPIPE): the exit code, no crash', async (t) => {
  const dir = tempDir(t);
  const refused = await closedPort();
  const out = fifo(t, dir, 'out', { reader: 'none' });
  const native = await agent(nativeFailure(refused), { stdout: out.fd });
  t.same([native.code, native.signal, native.stderr], [4, null, ''], 'exit 4, nothing said about the broken pipe');
  const err = fifo(t, dir, 'err', { reader: 'none' });
  const grpc = await agent(grpcFailure(refused), { stderr: err.fd });
  t.same([grpc.code, grpc.signal, grpc.stdout], [2, null, '']);
});

t.test('a regular file: appended to when opened for appending, written at its offset otherwise', async (t) => {
  const dir = tempDir(t);
  const refused = await closedPort();
  const appended = join(dir, 'appended.log');
  const append = openSync(appended, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND);
  writeSync(append, 'before\n');
  const first = await agent(grpcFailure(refused), { stderr: append });
  writeSync(append, 'after\n');
  closeSync(append);
  t.equal(first.code, 2);
  t.equal(readFileSync(appended, 'utf8'), `before\n${GRPC_LINE(refused)}after\n`);

  const offset = join(dir, 'offset.log');
  const plain = openSync(offset, constants.O_WRONLY | constants.O_CREAT);
  writeSync(plain, 'before\n');
  const second = await agent(grpcFailure(refused), { stderr: plain });
  writeSync(plain, 'after\n');
  closeSync(plain);
  t.equal(second.code, 2);
  t.equal(readFileSync(offset, 'utf8'), `before\n${GRPC_LINE(refused)}after\n`, 'the shared offset moved past what the agent wrote');
});

t.test('a regular file with no descriptor to spare: the report still lands in it', { skip: AGENT_COMMAND.length > 1 && 'the executable only: Node needs more descriptors than this to start' }, async (t) => {
  const dir = tempDir(t);
  const refused = await closedPort();
  // The executable writes a regular file through a duplicate of its descriptor; under the lowest limits it may get
  // none. Whatever limit it runs at, exit 4 means the report was written.
  let reported = 0;
  for (let limit = 4; limit <= 8; limit++) {
    const path = join(dir, `report-${limit}.log`);
    const file = openSync(path, constants.O_WRONLY | constants.O_CREAT);
    const ended = await run('prlimit', [`--nofile=${limit}:${limit}`, ...AGENT_COMMAND, ...nativeFailure(refused)], { stdout: file, killAfterMs: KILL_AFTER_MS });
    closeSync(file);
    if (ended.code !== 4) continue; // a limit the runtime itself cannot start under
    reported += 1;
    t.match(readFileSync(path, 'utf8'), /^once failed after [0-9.]+s \(1 attempt\): 1 of 1 check failed\nfailed to make TCP connection/, `ulimit -n ${limit}`);
  }
  t.ok(reported >= 3, 'the agent ran under most of these limits');
});

t.test('a terminal: the line arrives, the exit code is the agent\'s', { skip: !existsSync('/usr/bin/script') && 'needs script(1)' }, async (t) => {
  const refused = await closedPort();
  const quoted = [...AGENT_COMMAND, ...grpcFailure(refused)].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  // script(1) runs the agent on a new pseudo-terminal and, with -e, exits with its code.
  const session = spawnSync('script', ['-qec', quoted, '/dev/null'], { encoding: 'utf8', timeout: KILL_AFTER_MS, env: { ...process.env, NODE_OPTIONS: '' } });
  t.equal(session.status, 2);
  t.equal(session.stdout, GRPC_LINE(refused).replace('\n', '\r\n'), 'the terminal turns the newline into CR LF');
});

/**
 * The agent run by a shell whose stdout and stderr are the socket pair Node gives a child (journald gives a service
 * a socket too), then, in the same shell, grep reporting the flags of the description the shell shares with the
 * agent: whether the agent left it non-blocking for whatever the shell runs next. `fill` first has the socket
 * filled by a writer that blocks once it is full, until `timeout` ends it: a reader that stopped reading.
 */
function inShell(fd: 1 | 2, args: readonly string[], fill: boolean): Promise<{ code: number | null; said: string; nonBlocking: boolean }> {
  const script = [
    ...(fill ? [`timeout 1 head -c 100000000 /dev/zero >&${fd}`] : []),
    '"$@"',
    'code=$?',
    // The flags go to the other stream, which the agent did not write to.
    `grep '^flags:' /proc/$$/fdinfo/${fd} >&${3 - fd}`,
    'exit $code',
  ].join('; ');
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...AGENT_COMMAND, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    // A full socket stays unread until the shell has exited.
    if (!fill || fd === 2) child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    if (!fill || fd === 1) child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    if (fill) (fd === 1 ? child.stdout : child.stderr).pause();
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      const [said, flagsText] = fd === 1 ? [Buffer.concat(out).toString(), Buffer.concat(err).toString()] : [Buffer.concat(err).toString(), Buffer.concat(out).toString()];
      const flags = /^flags:\s*([0-7]+)$/m.exec(flagsText)?.[1];
      if (flags === undefined) return reject(new Error(`no flags reported: ${flagsText}`));
      resolve({ code, said: fill ? '' : said, nonBlocking: (parseInt(flags, 8) & constants.O_NONBLOCK) !== 0 });
    });
  });
}

t.test('a socket read (a journald stream): everything arrives, and the socket is left blocking', async (t) => {
  const refused = await closedPort();
  const native = await inShell(1, nativeFailure(refused), false);
  t.equal(native.code, 4);
  t.match(native.said, new RegExp(`^once failed after [0-9.]+s \\(1 attempt\\): 1 of 1 check failed\\nfailed to make TCP connection to 127\\.0\\.0\\.1:${refused}: [^\\n]+\\n$`));
  t.notOk(native.nonBlocking, 'stdout: O_NONBLOCK not left on the description the shell shares');
  const grpc = await inShell(2, grpcFailure(refused), false);
  t.equal(grpc.code, 2);
  t.equal(grpc.said, GRPC_LINE(refused));
  t.notOk(grpc.nonBlocking, 'stderr: O_NONBLOCK not left on the description the shell shares');
});

t.test('a full socket nobody reads: the exit code comes all the same, the socket left blocking', async (t) => {
  const refused = await closedPort();
  const native = await inShell(1, nativeFailure(refused), true);
  t.equal(native.code, 4, 'exit 4');
  t.notOk(native.nonBlocking, 'stdout left blocking');
  const grpc = await inShell(2, grpcFailure(refused), true);
  t.equal(grpc.code, 2, 'exit 2');
  t.notOk(grpc.nonBlocking, 'stderr left blocking');
});
