// Writes dist/cf-assets/healthcheck/: the single executable with its own dynamic loader and libraries beside it,
// so that, bind-mounted at /etc/cf-assets/healthcheck as Diego mounts its healthcheck, it runs in any root
// filesystem: glibc, musl (Alpine, busybox) or none at all (scratch), without a shell.
//
//   healthcheck             the executable, its interpreter set to MOUNT/ld-linux-x86-64.so.2 (patchelf) and its
//                           run path to MOUNT (scripts/lib/elf-runpath.mjs), so nothing is looked up in the root
//   ld-linux-x86-64.so.2, libc.so.6, ...   what `ldd` says it links, copied from this machine
//
// The paths are absolute on purpose: $ORIGIN would need /proc/self/exe at load time, and the directory is meant
// for one place. What the root must still have is what every container runtime mounts: /proc (Bun reads
// /proc/self/maps at start and aborts without it).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setRunpath } from './elf-runpath.mjs';

export const CF_ASSETS_MOUNT = '/etc/cf-assets/healthcheck';

/** Returns the files written, or throws an Error saying what is missing (patchelf, ldd). */
export function writeCfAssets(executable, dir) {
  const ldd = spawnSync('ldd', [executable], { encoding: 'utf8' });
  if (ldd.error || ldd.status !== 0) throw new Error(`ldd ${executable} failed: ${ldd.error?.message ?? ldd.stderr.trim()}`);
  // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and `/lib64/ld-linux-x86-64.so.2 (0x...)`; vdso has no file.
  const libraries = [...ldd.stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
  const loader = libraries.find((path) => /\/ld-linux[^/]*\.so/.test(path));
  if (loader === undefined) throw new Error(`ldd ${executable} names no dynamic loader: ${ldd.stdout.trim()}`);

  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    for (const library of libraries) copyFileSync(library, join(tmp, basename(library))); // follows the symlinks
    const agent = join(tmp, 'healthcheck');
    copyFileSync(executable, agent);
    const patched = spawnSync('patchelf', ['--set-interpreter', `${CF_ASSETS_MOUNT}/${basename(loader)}`, agent], { encoding: 'utf8' });
    if (patched.error?.code === 'ENOENT') throw new Error('patchelf is not installed (apt-get install patchelf)');
    if (patched.error || patched.status !== 0) throw new Error(`patchelf failed: ${patched.error?.message ?? patched.stderr.trim()}`);
    setRunpath(agent, CF_ASSETS_MOUNT);
    chmodSync(agent, 0o755);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return ['healthcheck', ...libraries.map((path) => basename(path))];
}
