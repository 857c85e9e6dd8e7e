// The Bun executable's connections (src/checks/connection-bun.ts), run under the bun the executable is built from.
// The paths that a race decides in the agent are forced here, one at a time, so each is seen on every run.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const BUN = join(dirname(require.resolve('@oven/bun-linux-x64/package.json')), 'bin/bun');
const MODULE = resolve(import.meta.dirname, '../../src/checks/connection-bun.ts');

// Writes one byte, waits (bounded) until the server says it has reset the connection, then writes again: the
// reset is in the kernel before Bun's loop has seen it, so the second send(2) is what meets it.
const WRITE_AFTER_RESET = `
import { existsSync } from 'node:fs';
import { openConnection } from ${JSON.stringify(MODULE)};
const [port, marker] = process.argv.slice(2);
const events = [];
const done = () => { console.log(JSON.stringify(events)); process.exit(0); };
const connection = openConnection('127.0.0.1', Number(port), {
  connected() {
    events.push('connected');
    connection.write(new Uint8Array([97]));
    const until = Date.now() + 10_000;
    while (!existsSync(marker) && Date.now() < until);
    connection.write(new Uint8Array(1024).fill(98));
  },
  data() { events.push('data'); },
  ended() { events.push('ended'); done(); },
  failed(err) { events.push(\`failed \${err.syscall} \${err.code}\`); done(); },
}, 'buffer');
setTimeout(done, 15_000);
`;

// Reads the server's greeting on two connections, one of each kind of chunk, and says what each chunk was.
const CHUNK_KINDS = `
import { openConnection } from ${JSON.stringify(MODULE)};
const [port] = process.argv.slice(2);
const seen = {};
for (const chunks of ['buffer', 'uint8array']) {
  openConnection('127.0.0.1', Number(port), {
    connected() {},
    data(bytes) {
      seen[chunks] = { buffer: Buffer.isBuffer(bytes), uint8array: bytes instanceof Uint8Array, text: new TextDecoder().decode(bytes) };
      if (Object.keys(seen).length === 2) { console.log(JSON.stringify(seen)); process.exit(0); }
    },
    ended() {},
    failed(err) { console.log(\`failed \${err.code}\`); process.exit(1); },
  }, chunks);
}
setTimeout(() => process.exit(2), 15_000);
`;

const skip = existsSync(BUN) ? false : '@oven/bun-linux-x64 is not installed (npm ci installs it on Linux x64)';

t.test('a write that meets a reset Bun has not seen yet fails the connection as a reset, not an orderly end', { skip }, async (t) => {
  const dir = t.testdir({ 'write-after-reset.ts': WRITE_AFTER_RESET });
  const marker = join(dir, 'reset');
  const server = createServer((socket: Socket) => {
    socket.once('data', () => {
      socket.resetAndDestroy();
      writeFileSync(marker, '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };

  const runs = 3;
  for (let run = 0; run < runs; run++) {
    rmSync(marker, { force: true });
    const child = spawn(BUN, [join(dir, 'write-after-reset.ts'), String(port), marker], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await once(child, 'close');
    clearTimeout(kill);
    t.same(JSON.parse(out || '[]'), ['connected', 'failed write ECONNRESET'], `run ${run + 1}`);
  }
});

t.test('chunks are Buffers, or plain Uint8Arrays for a reader that asks for them (the HTTP/2 client)', { skip }, async (t) => {
  const dir = t.testdir({ 'chunk-kinds.ts': CHUNK_KINDS });
  // The child exits as soon as it has read both: a reset the server may meet, and need not report.
  const server = createServer((socket: Socket) => socket.on('error', () => {}).end('hi'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const child = spawn(BUN, [join(dir, 'chunk-kinds.ts'), String(port)], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = await once(child, 'close');
  clearTimeout(kill);
  t.equal(code, 0);
  t.same(JSON.parse(out || '{}'), {
    buffer: { buffer: true, uint8array: true, text: 'hi' },
    uint8array: { buffer: false, uint8array: true, text: 'hi' },
  });
});
