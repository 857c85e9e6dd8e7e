/**
 * The Docker Engine API client (dockerode), loaded on first use. It brings an SSH client, gRPC and protobuf with it
 * (about 350 modules, some 23 MB of RSS and a quarter of a CPU-second to load), which a supervisor without docker
 * apps, and every `lifeguard status` or `validate` of a config without them, would otherwise pay for nothing.
 */
import { createRequire } from 'node:module';
import type Docker from 'dockerode';

let DockerClient: typeof Docker | undefined;

/** A client of the engine on the unix socket `socketPath` (engine-socket.ts decides which). */
export function dockerClient(socketPath: string): Docker {
  DockerClient ??= createRequire(import.meta.url)('dockerode') as typeof Docker;
  return new DockerClient({ socketPath });
}
