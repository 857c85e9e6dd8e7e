/**
 * iproute2's `ip`, run with an argv (never a shell) and a deadline, for the netns driver. A failure carries ip's
 * own one-line complaint (`Cannot create namespace file "/run/netns/x": File exists`), which is what the operator
 * needs to read.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

const IP_TIMEOUT_MS = 10_000;

/** Where iproute2 put `ip`; undefined when it is not installed. */
export const IP_PATH: string | undefined = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) => existsSync(path));

class IpCommandError extends Error {}

export function ip(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    if (IP_PATH === undefined) return reject(new IpCommandError('ip (iproute2) is not installed'));
    execFile(IP_PATH, args, { timeout: IP_TIMEOUT_MS, env: {} }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const detail = stderr.trim().split('\n')[0] || error.message.split('\n')[0];
      reject(new IpCommandError(`ip ${args.join(' ')}: ${detail}`));
    });
  });
}

/** Like ip(), for teardown steps whose object may already be gone; never rejects. */
export async function ipQuiet(...args: string[]): Promise<void> {
  await ip(...args).catch(() => undefined);
}
