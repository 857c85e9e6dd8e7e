// The agent's hardening cases of issue 11, each found by trying it, each run against the built agent
// (`node dist/healthcheck.cjs`) and, where it is built, the single executable (dist/healthcheck) too.
// Traffic goes to loopback servers and closed loopback ports only.
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { AGENT_BUNDLE, readDescriptor, run, start, type RunOptions } from '../helpers/agent.js';
import { closedPort, tcpServer } from '../checks/fixtures.js';

const BINARY = fileURLToPath(new URL('../../dist/healthcheck', import.meta.url));

/** Each executable the agent ships as: a command and the arguments that come before the agent's own. */
const EXECUTABLES: readonly { readonly name: string; readonly command: string; readonly prefix: readonly string[] }[] = [
  { name: 'node dist/healthcheck.cjs', command: process.execPath, prefix: [AGENT_BUNDLE] },
  ...(existsSync(BINARY) ? [{ name: 'dist/healthcheck', command: BINARY, prefix: [] }] : []),
];
if (EXECUTABLES.length === 1) t.comment('dist/healthcheck is not built (npm run build:binary): the bundle only');

/** Whether the child's descriptor is one this process holds too (the same pipe, socket or file). */
function inherited(pid: number, fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return false;
  }
}

const agent = (args: readonly string[], options?: RunOptions) =>
  run(process.execPath, [AGENT_BUNDLE, ...args], options);

/** A usage error: exit 2, nothing on stdout, one line on stderr, no stack trace. */
function usageError(t: Test, ended: Awaited<ReturnType<typeof agent>>, fragment: string): void {
  t.same([ended.code, ended.signal, ended.stdout], [2, null, ''], 'exit 2, nothing on stdout');
  t.match(ended.stderr, /^[^\n]+\n$/, 'one line on stderr');
  t.ok(ended.stderr.includes(fragment), `${JSON.stringify(ended.stderr)} holds ${JSON.stringify(fragment)}`);
}

for (const exe of EXECUTABLES) {
  t.test(`${exe.name}: the exit code comes on time when stdout is a pipe nobody reads`, async (t) => {
    const refused = await closedPort();
    // 2,000 failing checks make a report of about 150 KB, more than a pipe holds; `sleep` never reads it.
    const checks = Array.from({ length: 2000 }, () => ['--check', `tcp://127.0.0.1:${refused}`]).flat();
    const script = '("$@"; echo "exit $?" >&2) | sleep 60';
    // A long --timeout: refused connects, thousands at once on a busy machine, must not turn into timeouts (64).
    const child = start('sh', ['-c', script, 'sh', exe.command, ...exe.prefix, '--mode=liveness', '--timeout', '10s', ...checks], {
      killAfterMs: 30_000,
    });
    let stderr = '';
    const exited = await new Promise<string>((resolve) => {
      child.child.stderr!.on('data', (text: string) => {
        stderr += text;
        if (/exit \d+\n/.test(stderr)) resolve(stderr);
      });
      child.ended.then(() => resolve(stderr), () => resolve(stderr));
    });
    process.kill(-child.child.pid!, 'SIGKILL'); // sleep, and the shell
    await child.ended;
    t.match(exited, /(^|\n)exit 4\n$/, 'the agent exited 4 although its report could not be written');
  });

  t.test(`${exe.name}: --heartbeat-fd refuses every descriptor the runtime opened for itself`, async (t) => {
    // The descriptors of a running agent, beyond the stdin, stdout and stderr this test handed it.
    const refused = await closedPort();
    const running = start(exe.command, [...exe.prefix, '--mode=until-ready', '--host', '127.0.0.1', '--port', String(refused), '--interval', '1s']);
    t.teardown(() => running.child.kill('SIGKILL'));
    let own: number[] = [];
    for (let i = 0; i < 100 && own.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A descriptor this test holds too (one leaked to it by its own parent) was handed over, not the runtime's.
      own = readdirSync(`/proc/${running.child.pid}/fd`).map(Number).filter((fd) => fd > 2 && !inherited(running.child.pid!, fd));
    }
    // A descriptor the runtime held only a moment (a file it read) may be closed by now: it is no longer there to name.
    const kinds = own.map((fd) => {
      try {
        return readlinkSync(`/proc/${running.child.pid}/fd/${fd}`);
      } catch {
        return 'closed since';
      }
    });
    running.child.kill('SIGKILL');
    await running.ended;
    t.ok(own.length >= 2, `the runtime holds descriptors of its own (Node about 16, Bun its epoll and eventfd): ${own.map((fd, i) => `${fd} ${kinds[i]}`).join(', ')}`);
    const candidates = [...new Set([...own, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])].sort((a, b) => a - b);
    for (const fd of candidates) {
      const ended = await run(exe.command, [...exe.prefix, '--heartbeat-fd', String(fd), '--host', '127.0.0.1', '--port', String(refused)]);
      t.same([ended.code, ended.signal, ended.stdout], [2, null, ''], `--heartbeat-fd ${fd}: exit 2, no crash`);
      t.match(ended.stderr, new RegExp(`^invalid --heartbeat-fd '${fd}': expected a descriptor handed over by the parent[^\\n]*\\n$`));
    }
    const readOnly = await run('sh', ['-c', 'exec "$@" 3</dev/null', 'sh', exe.command, ...exe.prefix,
      '--heartbeat-fd', '3', '--host', '127.0.0.1', '--port', String(refused)]);
    t.match([readOnly.code, readOnly.stderr], [2, /: expected a descriptor handed over by the parent, open for writing; 3 is open for reading only\n$/],
      'a descriptor handed over for reading');
  });

  t.test(`${exe.name}: --heartbeat-fd takes a descriptor the caller handed over`, async (t) => {
    const port = await tcpServer(t, (socket) => socket.end());
    const args = [...exe.prefix, '--heartbeat-fd', '3', '--mode=liveness', '--interval', '100ms', '--host', '127.0.0.1', '--port', String(port)];
    const handed = start(exe.command, args, { extraStdio: ['pipe'] });
    t.teardown(() => handed.child.kill('SIGKILL'));
    const text = await readDescriptor(handed, 3, (sofar) => /"attempt":1,"passed":true/.test(sofar));
    handed.child.kill('SIGTERM');
    const ended = await handed.ended;
    t.same([ended.code, ended.stderr], [143, '']);
    t.match(text, /"attempt":1,"passed":true/, 'the round was reported on the descriptor');
  });
}

t.test('more than 10 checks in one round: no MaxListenersExceededWarning', async (t) => {
  const refused = await closedPort();
  const checks = Array.from({ length: 25 }, () => ['--check', `tcp://127.0.0.1:${refused}`]).flat();
  for (const mode of ['once', 'liveness']) {
    const ended = await agent([`--mode=${mode}`, ...checks]);
    t.equal(ended.code, 4, mode);
    t.equal(ended.stderr, '', `${mode}: nothing on stderr`);
  }
});

t.test('a flag given twice is refused, except the repeatable --header, --check and --readiness-check', async (t) => {
  usageError(t, await agent(['--mode', 'readiness', '--mode', 'liveness']), "--mode given more than once ('readiness', then 'liveness')");
  usageError(t, await agent(['--port=1', '--port=2']), "--port given more than once ('1', then '2')");
  usageError(t, await agent(['--json', '--json']), '--json given more than once');
  usageError(t, await agent(['-port=8080', '-port=8081']), "flag given more than once: -port ('8080', '8081')");
  const refused = await closedPort();
  const repeated = await agent(['--check', `tcp://127.0.0.1:${refused}`, '--check', `http://127.0.0.1:${refused}/`,
    '--header', 'A: 1', '--header', 'B: 2']);
  t.equal(repeated.code, 4, 'repeatable ones are taken');
  t.equal(repeated.stdout.split('\n').length, 4, 'both checks ran');
  const lifecycle = await agent(['--mode=lifecycle', '--readiness-check', `tcp://127.0.0.1:${refused}`, '--readiness-check',
    `tcp://127.0.0.1:${refused}`, '--check', `tcp://127.0.0.1:${refused}`, '--startup-timeout', '300ms', '--startup-interval', '100ms']);
  t.equal(lifecycle.code, 4, '--readiness-check repeats too');
});

// Go's flag package follows its line with the usage, and so does the CF dialect (cf-flags.test.ts).
t.test('a single-dash flag among native ones: the error says that it selected the CF dialect', async (t) => {
  const mixed = await agent(['-port=8090', '--mode=readiness']);
  t.same([mixed.code, mixed.stdout], [2, '']);
  t.ok(mixed.stderr.startsWith("flag provided but not defined: -mode (the single-dash flag '-port=8090' selected Cloud Foundry's flags"));
  const cfOnly = await agent(['-port=8090', '-frobnicate=1']);
  t.ok(cfOnly.stderr.startsWith('flag provided but not defined: -frobnicate\nUsage of healthcheck'), "Go's exact words when no native flag is in sight");
});

t.test('a typo in a CheckDefinition key is reported as the unknown key', async (t) => {
  usageError(t, await agent(['--definition', '-'], { input: '{"checks":[{"tcp_check":{"prot":8080}}]}' }),
    "invalid --definition '-': checks[0].tcp_check.prot: unknown field");
});

t.test('the HTTP failure says where the agent looked', async (t) => {
  const refused = await closedPort();
  const ended = await agent(['--host', '127.0.0.1', '--port', String(refused), '--uri', '/health']);
  t.equal(ended.code, 5);
  t.match(ended.stdout, `\nfailed to make HTTP request to '/health' on 127.0.0.1:${refused}: connect: connection refused\n`);
  const v6 = await agent(['--host', '::1', '--port', String(refused), '--uri', '/health']);
  t.match(v6.stdout, `on [::1]:${refused}: `);
});

t.test('--timeout 1ms is reported as 0.001 seconds, not 0.00', async (t) => {
  const mute = await tcpServer(t, () => {}); // accepts, never answers
  const ended = await agent(['--host', '127.0.0.1', '--port', String(mute), '--uri', '/', '--timeout', '1ms']);
  t.equal(ended.code, 65);
  t.match(ended.stdout, `\nfailed to make HTTP request to '/' on 127.0.0.1:${mute}: timed out after 0.001 seconds\n`);
});
