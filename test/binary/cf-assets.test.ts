// dist/cf-assets/healthcheck/, as Diego uses it: bind-mounted read-only at /etc/cf-assets/healthcheck in a root
// filesystem that holds nothing else (no glibc, no shell), and in a musl root (busybox and musl's loader, as in
// Alpine). Each run is in a network and mount namespace of its own (test/helpers/netns.ts): the listener is on the
// namespace's veth address, which the CF dialect discovers as Diego's binary does; the root, its bind mount and
// its /proc (which every container runtime mounts, and Bun needs) vanish with the namespace.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CF_ASSETS, EXECUTABLE, ensureExecutable } from '../helpers/executable.js';
import { inNamespace, netnsSkip, NS_ADDRESS } from '../helpers/netns.js';

const SERVER = fileURLToPath(new URL('../cli/fixtures/ns-server.cjs', import.meta.url));
const MOUNT = '/etc/cf-assets/healthcheck';
const BUSYBOX = '/bin/busybox';
// From Debian's `musl` package: the loader and libc of musl in one file.
const MUSL = '/lib/ld-musl-x86_64.so.1';

t.setTimeout(300_000);
if (!netnsSkip) ensureExecutable();

/** A fresh directory for a root filesystem, removed at the end (its mounts are gone with their namespace). */
function emptyRoot(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'lifeguard-root-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** Mounts the directory read-only at ROOT/etc/cf-assets/healthcheck and a /proc, as a container runtime would. */
const MOUNTS = `mkdir -p "$ROOT${MOUNT}" "$ROOT/proc"
  mount --bind "$ASSETS" "$ROOT${MOUNT}" && mount -o remount,bind,ro "$ROOT${MOUNT}"
  mount -t proc proc "$ROOT/proc"`;

/** Starts ns-server.cjs on NS_ADDRESS:8080 answering STATUSES, and waits (bounded) until it listens. */
const SERVE = `"$NODE" "$SERVER" "$DIR" ${NS_ADDRESS} "$STATUSES" &
  for i in $(seq 100); do [ -e "$DIR/ready" ] && break; sleep 0.05; done`;

t.test('an empty root: nothing but the directory (and /proc)', { skip: netnsSkip }, async (t) => {
  const root = emptyRoot(t);
  const dir = t.testdir({});
  const env = { ROOT: root, ASSETS: CF_ASSETS, SERVER, DIR: dir, STATUSES: '200' };
  const script = `${MOUNTS}
    ${SERVE}
    echo "root: $(ls -A "$ROOT" | tr '\\n' ' ')"
    chroot "$ROOT" ${MOUNT}/healthcheck -port=8080 -uri=/health; echo "http: $?"
    chroot "$ROOT" ${MOUNT}/healthcheck -port=8080; echo "tcp: $?"
    chroot "$ROOT" ${MOUNT}/healthcheck -port=8081 || echo "closed: $?"
    chroot "$ROOT" ${MOUNT}/healthcheck --version`;
  const ended = await inNamespace(script, { veth: true, ownMounts: true, env });
  t.equal(ended.code, 0, ended.stderr);
  t.match(ended.stdout, /^root: etc proc $/m, 'the root holds nothing else');
  t.match(ended.stdout, /^http: 0$/m, 'HTTP check on the discovered address passes');
  t.match(ended.stdout, /^tcp: 0$/m, 'TCP check passes');
  t.match(ended.stdout, /^closed: 4$/m, 'a closed port fails with 4');
  t.match(ended.stderr, `failed to make TCP connection to ${NS_ADDRESS}:8081: dial tcp ${NS_ADDRESS}:8081: connect: connection refused`);
  t.match(ended.stdout, /^\d+\.\d+\.\d+$/m, '--version');
  t.notOk(existsSync(join(root, 'etc/cf-assets/healthcheck/healthcheck')), 'the mount went with its namespace');
});

t.test('an empty root with no interface but loopback: exit 3, as CF says it', { skip: netnsSkip }, async (t) => {
  const root = emptyRoot(t);
  const script = `${MOUNTS}
    chroot "$ROOT" ${MOUNT}/healthcheck -port=8080 || echo "exit: $?"`;
  const ended = await inNamespace(script, { veth: false, ownMounts: true, env: { ROOT: root, ASSETS: CF_ASSETS } });
  t.match(ended.stdout, /^exit: 3$/m);
  t.equal(ended.stderr, 'failure to find suitable interface\n');
});

const muslSkip = netnsSkip || (!existsSync(BUSYBOX) ? 'needs busybox-static' : !existsSync(MUSL) ? 'needs musl (apt-get install musl)' : false);

t.test('a musl root (busybox and musl, no glibc), run from its shell as a Docker HEALTHCHECK would', { skip: muslSkip }, async (t) => {
  const root = emptyRoot(t);
  const dir = t.testdir({});
  const env = { ROOT: root, ASSETS: CF_ASSETS, PLAIN: EXECUTABLE, BUSYBOX, MUSL, SERVER, DIR: dir, STATUSES: '200' };
  const script = `${MOUNTS}
    mkdir -p "$ROOT/bin" "$ROOT/lib" "$ROOT/tmp"
    cp "$BUSYBOX" "$ROOT/bin/busybox" && ln -s busybox "$ROOT/bin/sh"
    cp -L "$MUSL" "$ROOT/lib/ld-musl-x86_64.so.1"
    cp "$PLAIN" "$ROOT/tmp/plain-healthcheck"
    ${SERVE}
    chroot "$ROOT" /bin/sh -c '${MOUNT}/healthcheck -port=8080 -uri=/health; echo "mounted: $?"'
    chroot "$ROOT" /bin/sh -c '/tmp/plain-healthcheck -port=8080; echo "plain: $?"' 2>&1`;
  const ended = await inNamespace(script, { veth: true, ownMounts: true, env });
  t.equal(ended.code, 0, ended.stderr);
  t.match(ended.stdout, /^mounted: 0$/m, 'the directory runs where there is no glibc');
  // The control: the plain executable needs glibc's loader, which this root does not have.
  t.match(ended.stdout, /^plain: 127$/m, 'the plain executable does not');
});
