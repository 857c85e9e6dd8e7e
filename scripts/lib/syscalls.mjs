// The system calls a running checker makes per check, by name: `strace -f -c` attached for a while. ptrace makes
// every call several times dearer, so this runs only after a measured window, never during one. A check is one
// connect(), ours and HAProxy's alike, so the calls are divided by the connect() calls in the same trace.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/**
 * Traces each pid (its threads too) for `ms` at once, then asks strace to detach (SIGINT, as ^C does) and reads
 * its summary. Per pid: calls and failed calls per check by syscall name, and the checks (connect calls) traced.
 * A strace that has not written its summary within 10 s of the detach is killed; that pid's answer is null.
 */
export async function syscallsPerCheck(strace, pids, ms, dir) {
  const traces = pids.map((pid) => {
    const file = `${dir}/strace-${pid}.txt`;
    const child = spawn(strace, ['-f', '-c', '-U', 'name,calls,errors', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
    return { file, child, exited: once(child, 'exit') };
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Promise.all(
    traces.map(async ({ file, child, exited }) => {
      child.kill('SIGINT');
      const bound = setTimeout(() => child.kill('SIGKILL'), 10_000);
      // strace detaches, writes its summary and ends by the signal it was sent.
      const [code, signal] = await exited;
      clearTimeout(bound);
      return code === 0 || signal === 'SIGINT' ? perCheck(readFileSync(file, 'utf8')) : null;
    }),
  );
}

/** strace -c -U name,calls,errors: a header, a rule, `name calls [errors]` lines, a rule, the total. */
function perCheck(summary) {
  const counts = new Map();
  for (const line of summary.split('\n')) {
    const match = /^(\w+)\s+(\d+)\s*(\d*)\s*$/.exec(line);
    if (match === null || match[1] === 'total') continue;
    counts.set(match[1], { calls: Number(match[2]), errors: Number(match[3] || 0) });
  }
  const checks = counts.get('connect')?.calls ?? 0;
  if (checks === 0) return { checks, perCheck: {} };
  const perCheck = {};
  for (const [name, { calls, errors }] of counts) perCheck[name] = { calls: calls / checks, errors: errors / checks };
  return { checks, perCheck };
}
