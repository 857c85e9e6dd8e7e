/** Users as /etc/passwd lists them: what an app's `user` names, with its uid and primary group. */
import { readFileSync } from 'node:fs';

export interface AppUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** By name, or by a numeric uid; undefined when /etc/passwd has no such entry. */
export function lookupUser(user: string, passwd = '/etc/passwd'): AppUser | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    if (name === user || uid === user) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
