// The CF dialect's tests run the agent in a namespace of their own, beside test/cli/fixtures/ns-server.cjs on
// NS_ADDRESS:8080, where the agent finds that address by Cloud Foundry's rule as Diego's would find a container's.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inNamespace, NS_ADDRESS } from './netns.js';

export const NS_SERVER = fileURLToPath(new URL('../cli/fixtures/ns-server.cjs', import.meta.url));

/**
 * Starts the fixture server on NS_ADDRESS:8080 in a fresh namespace, waits (bounded) until it listens, then runs
 * the agent with `args`. `statuses`: the fixture's answers, in order. Returns how the agent ended and the requests
 * the server saw.
 */
export async function withServer(dir: string, statuses: string, args: readonly string[]) {
  const ended = await inNamespace(
    `"$NODE" "$SERVER" "$DIR" ${NS_ADDRESS} "$STATUSES" &
     for i in $(seq 100); do [ -e "$DIR/ready" ] && break; sleep 0.05; done
     agent "$@"`,
    { veth: true, args, env: { SERVER: NS_SERVER, DIR: dir, STATUSES: statuses } },
  );
  let requests: { url: string; headers: Record<string, string> }[] = [];
  try {
    requests = readFileSync(`${dir}/requests`, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  } catch {
    // no request was made
  }
  return { ...ended, requests };
}
