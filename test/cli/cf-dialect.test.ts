// The Cloud Foundry dialect end to end, and interface discovery, inside private network namespaces: the agent
// finds the namespace's own veth address (NS_ADDRESS) as Diego's would find the container's, and nothing
// leaves the namespace. Parsing alone is in args.test.ts; usage errors in bad-input.test.ts.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { NS_SERVER, withServer } from '../helpers/cf-server.js';
import { inNamespace, netnsSkip, NS_ADDRESS } from '../helpers/netns.js';

const ADDRESS = NS_ADDRESS.replace(/\./g, '\\.');

/** A 1s startup deadline on a port nothing listens on: exit 4 and Cloud Foundry's words, naming `check`. */
async function assertTimedOut(t: Test, flags: readonly string[], check: 'startup' | 'readiness'): Promise<void> {
  const ended = await withServer(t.testdir(), '200', ['-port=8081', ...flags]);
  t.equal(ended.code, 4);
  t.match(
    ended.stderr,
    new RegExp(
      `^Timed out after 1s \\(\\d+ attempts\\) waiting for ${check} check to succeed: ` +
        `failed to make TCP connection to ${ADDRESS}:8081: dial tcp ${ADDRESS}:8081: connect: connection refused\\n$`,
    ),
  );
}

t.test('in a namespace with an interface', { skip: netnsSkip }, async (t) => {
  t.test('one-shot TCP check on the discovered address: silent success', async (t) => {
    const ended = await withServer(t.testdir(), '200', ['-port=8080']);
    t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
  });

  t.test("one-shot HTTP check with the binary's headers", async (t) => {
    const ended = await withServer(t.testdir(), '200', ['-port=8080', '-uri=/health', '-timeout=2s']);
    t.equal(ended.code, 0);
    t.match(ended.requests, [
      {
        url: '/health',
        headers: { host: `${NS_ADDRESS}:8080`, 'user-agent': 'diego-healthcheck', 'x-forwarded-proto': 'https' },
      },
    ]);
  });

  t.test('one-shot failure: the message alone, on stderr', async (t) => {
    const ended = await withServer(t.testdir(), '200', ['-port=8081']);
    t.equal(ended.code, 4);
    t.equal(ended.stdout, '');
    t.equal(ended.stderr, `failed to make TCP connection to ${NS_ADDRESS}:8081: dial tcp ${NS_ADDRESS}:8081: connect: connection refused\n`);
  });

  t.test('HTTP status failure (exit 6), not "connection refused"', async (t) => {
    const ended = await withServer(t.testdir(), '503', ['-port=8080', '-uri=/health']);
    t.equal(ended.code, 6);
    t.match(ended.stderr, /^failed to make HTTP request to '\/health' on port 8080: received status code 503 in \d+ms\n$/);
  });

  t.test('startup mode: checks until it passes', async (t) => {
    const ended = await withServer(t.testdir(), '503,503,200', ['-port=8080', '-uri=/', '-startup-interval=100ms']);
    t.same([ended.code, ended.stderr], [0, '']);
    t.equal(ended.requests.length, 3);
  });

  t.test('startup mode: the timeout message', async (t) => {
    await assertTimedOut(t, ['-startup-interval=200ms', '-startup-timeout=1s'], 'startup');
  });

  t.test('startup timeout during the first attempt: a timeout, not a panic', async (t) => {
    const ended = await withServer(t.testdir(), 'hang', [
      '-port=8080', '-uri=/', '-timeout=20s', '-startup-interval=1s', '-startup-timeout=1s',
    ]);
    t.equal(ended.code, 65);
    t.match(
      ended.stderr,
      /^Timed out after 1s \(0 attempts\) waiting for startup check to succeed: failed to make HTTP request to '\/' on port 8080: timed out after \d\.\d\d seconds\n$/,
    );
  });

  t.test('liveness mode: runs until a failure, with its prefix', async (t) => {
    const ended = await withServer(t.testdir(), '200,200,500', ['-port=8080', '-uri=/', '-liveness-interval=100ms']);
    t.equal(ended.code, 6);
    t.match(
      ended.stderr,
      /^Liveness check unsuccessful: failed to make HTTP request to '\/' on port 8080: received status code 500 in \d+ms\n$/,
    );
    t.equal(ended.requests.length, 3);
  });

  t.test('readiness mode: runs until a failure, with its prefix', async (t) => {
    const ended = await withServer(t.testdir(), '200,500', ['-port=8080', '-uri=/', '-readiness-interval=100ms']);
    t.equal(ended.code, 6);
    t.match(ended.stderr, /^Readiness check unsuccessful: failed to make HTTP request/);
  });

  t.test('until-ready mode: quiet until it passes', async (t) => {
    const ended = await withServer(t.testdir(), '503,503,503,200', ['-port=8080', '-uri=/', '-until-ready-interval=100ms']);
    t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
    t.equal(ended.requests.length, 4);
  });

  t.test('the native dialect without --host discovers the same address', async (t) => {
    const ended = await withServer(t.testdir(), '200', ['--port', '8080', '--uri', '/ready']);
    t.equal(ended.code, 0);
    t.match(ended.requests, [{ url: '/ready', headers: { host: `${NS_ADDRESS}:8080` } }]);
  });
});

t.test('in a namespace with loopback only: exit 3', { skip: netnsSkip }, async (t) => {
  const cf = await inNamespace('agent "$@"', { veth: false, args: ['-port=8080', '-liveness-interval=1s'] });
  t.same([cf.code, cf.stdout], [3, '']);
  t.equal(cf.stderr, 'Liveness check unsuccessful: failure to find suitable interface\n');
  const native = await inNamespace('agent "$@"', { veth: false, args: ['--port', '8080'] });
  t.equal(native.code, 3);
  t.match(native.stdout, /\nfailure to find suitable interface\n$/);
});

// Diego's executors before May 2023 (Cloud Foundry's commit cf17159) passed `-readiness-interval` with
// `-readiness-timeout` for what is now the startup mode.
t.test('before May 2023: -readiness-interval with -readiness-timeout is the startup mode', { skip: netnsSkip }, async (t) => {
  t.test('exit 0 once the check passes', async (t) => {
    const ended = await withServer(t.testdir(), '503,503,200', ['-port=8080', '-uri=/', '-readiness-interval=100ms', '-readiness-timeout=10s']);
    t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
    t.equal(ended.requests.length, 3);
  });

  t.test("the timeout, in that binary's words", async (t) => {
    await assertTimedOut(t, ['-readiness-interval=200ms', '-readiness-timeout=1s'], 'readiness');
  });

  t.test('a 0s timeout never times out: it waits past where 1s would have given up', async (t) => {
    const statuses = [...Array(15).fill('503'), '200'].join(',');
    const ended = await withServer(t.testdir(), statuses, ['-port=8080', '-uri=/', '-readiness-interval=100ms', '-readiness-timeout=0s']);
    t.same([ended.code, ended.stderr], [0, '']);
    t.equal(ended.requests.length, 16);
    const bounded = await withServer(t.testdir(), statuses, ['-port=8080', '-uri=/', '-readiness-interval=100ms', '-readiness-timeout=1s']);
    t.equal(bounded.code, 6, 'the same server with a 1s timeout: it gives up');
  });

  t.test("without -readiness-timeout, today's readiness: runs until a failure", async (t) => {
    const ended = await withServer(t.testdir(), '200,200,500', ['-port=8080', '-uri=/', '-readiness-interval=100ms']);
    t.equal(ended.code, 6);
    t.match(ended.stderr, /^Readiness check unsuccessful: /);
    t.equal(ended.requests.length, 3);
  });
});

t.test("-external-port: the external build's CF_INSTANCE_PORTS mapping, only when asked for", { skip: netnsSkip }, async (t) => {
  const env = { CF_INSTANCE_PORTS: '[{"internal":3000,"external":8080}]' };
  const mapped = await inNamespace(
    `"$NODE" "$SERVER" "$DIR" ${NS_ADDRESS} 200 &
     for i in $(seq 100); do [ -e "$DIR/ready" ] && break; sleep 0.05; done
     agent "$@"`,
    { veth: true, args: ['-port=3000', '-uri=/', '-external-port'], env: { ...env, SERVER: NS_SERVER, DIR: t.testdir() } },
  );
  t.same([mapped.code, mapped.stderr], [0, ''], '3000 is checked on 8080, where the server is');
  const unmapped = await inNamespace('agent "$@"', { veth: true, args: ['-port=3000', '-uri=/'], env });
  t.equal(unmapped.code, 5, 'without the flag, port 3000 itself');
  t.equal(unmapped.stderr, "failed to make HTTP request to '/' on port 3000: connect: connection refused\n", "Cloud Foundry's exact words");
});

// Cloud Foundry's binary skips 127.0.0.0/8 addresses, not interfaces flagged loopback; the native dialect skips both.
t.test('an address such as 10.99.0.1 on lo: used by the CF dialect, as by that binary', { skip: netnsSkip }, async (t) => {
  const dir = t.testdir();
  const script = `ip addr add 10.99.0.1/32 dev lo
     "$NODE" "$SERVER" "$DIR" 10.99.0.1 200 &
     for i in $(seq 100); do [ -e "$DIR/ready" ] && break; sleep 0.05; done
     rc=0; agent -port=8080 -uri=/cf || rc=$?; echo "cf=$rc"
     rc=0; agent --port 8080 --uri /native || rc=$?; echo "native=$rc"`;
  const ended = await inNamespace(script, { veth: false, env: { SERVER: NS_SERVER, DIR: dir } });
  t.match(ended.stdout, /^cf=0\n[\s\S]*failure to find suitable interface\nnative=3\n$/);
  const requests = readFileSync(`${dir}/requests`, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  t.match(requests, [{ url: '/cf', headers: { host: '10.99.0.1:8080' } }]);
  t.equal(requests.length, 1);
});

// Go's net.Interfaces lists an interface that is down, and Cloud Foundry's binary would dial its address; both
// dialects here take the first address on an interface that is up and running (README, "Without --host").
t.test('an address on an interface that is down comes first: both dialects skip it for the next', { skip: netnsSkip }, async (t) => {
  const dir = t.testdir();
  const script = `ip link add a0 type veth peer name a1 && ip addr add 10.98.0.1/24 dev a0
     ip link add v0 type veth peer name v1 && ip addr add ${NS_ADDRESS}/24 dev v0 && ip link set v0 up && ip link set v1 up
     "$NODE" "$SERVER" "$DIR" 0.0.0.0 200 &
     for i in $(seq 100); do [ -e "$DIR/ready" ] && break; sleep 0.05; done
     rc=0; agent -port=8080 -uri=/cf || rc=$?; echo "cf=$rc"
     rc=0; agent --port 8080 --uri /native || rc=$?; echo "native=$rc"`;
  const ended = await inNamespace(script, { veth: false, env: { SERVER: NS_SERVER, DIR: dir } });
  t.match(ended.stdout, /^cf=0\nnative=0\n$/);
  const requests = readFileSync(`${dir}/requests`, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  t.match(requests, [
    { url: '/cf', headers: { host: `${NS_ADDRESS}:8080` } },
    { url: '/native', headers: { host: `${NS_ADDRESS}:8080` } },
  ]);
});
