// The config's extension checks under native probing: parsed by the config, run by the supervisor's in-process
// probe against real loopback servers (gRPC health, HTTPS with a CA and a body assertion).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { parseConfig } from '../../src/supervisor/config/config.js';
import { NativeProbe } from '../../src/probes/native.js';
import type { ProbeEnd } from '../../src/probes/probe.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';

t.test('grpc_check and https http_check from the config, probed natively', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const grpc = await grpcHealthServer(t, { 'shop.Cart': { serving: 1 }, 'shop.Down': { serving: 2 } });
  const https = await httpsServer(t, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) }, (_req, res) => res.end('{"status":"ok"}'));
  // Container ports 1, 2 and 3, aimed by the driver at the servers' loopback ports.
  const ports: Record<number, number> = { 1: grpc.port, 2: https, 3: grpc.port };
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port: ports[port] as number }) };
  const app = parseConfig({
    apps: [{
      name: 'web',
      command: ['x'],
      probe: 'native',
      checks: [
        { grpc_check: { port: 1, service: 'shop.Cart', request_timeout_ms: 1000 } },
        { http_check: { port: 2, path: '/health', tls: { ca_file: certs.caFile }, expect_body_regex: '"status":\\s*"ok"' } },
      ],
      readiness_checks: [{ grpc_check: { port: 3, service: 'shop.Down' } }],
    }],
  }).supervisor.apps[0]!;
  const probe = new NativeProbe();
  t.teardown(() => probe.close());
  const ends: (ProbeEnd | 'ready')[] = [];
  const observer = { round: () => {}, ready: () => ends.push('ready'), end: (end: ProbeEnd) => ends.push(end) };
  const liveness = { checks: app.checks, intervalMs: 10_000, failureThreshold: 1 };
  // Generous start timeouts: the first gRPC check of a process loads node:http2 (and, under tap, transpiles).
  probe.lifecycle(target, { readiness: { checks: app.checks, intervalMs: 50, startupTimeoutMs: 5000 }, liveness }, observer);
  probe.lifecycle(target, { readiness: { checks: app.readinessChecks, intervalMs: 50, startupTimeoutMs: 1500 }, liveness }, observer);
  for (let i = 0; i < 300 && ends.length < 2; i++) await sleep(20);
  t.match(ends, ['ready', { phase: 'readiness', cause: 'timed-out', reason: /failed gRPC health check of 127\.0\.0\.1:\d+ for service "shop\.Down": status NOT_SERVING/ }]);
  t.same(grpc.asked.map((asked) => asked.service).slice(0, 2).sort(), ['shop.Cart', 'shop.Down']);
});
