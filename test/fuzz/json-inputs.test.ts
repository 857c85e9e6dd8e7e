// CheckDefinition JSON and supervisor config files, random and mutated from valid ones (seeded: LIFEGUARD_SEED):
// each is either accepted whole or refused with one usage line (exit 2); nothing else is ever thrown.
import fc from 'fast-check';
import t from 'tap';
import { parseCheckDefinition } from '../../src/checks/definition.js';
import { LifeguardFailure } from '../../src/checks/errors.js';
import { parseConfig } from '../../src/supervisor/config/config.js';
import { seedFromEnv } from '../reliability/seed.js';

const seed = seedFromEnv(65_536);
const RUNS = 3000;

/** A JSON value that is right most of the way down, and wrong somewhere: the shapes that reach deep validation. */
const scalar = fc.oneof(fc.integer({ min: -2, max: 70_000 }), fc.double(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.constantFrom('/health', '1s', '500ms', 'sidecar', 'native', 'process', '127.0.0.1:0', '0.0.0.0:80'));
const almost = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: scalar }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const entry = almost(
  fc.oneof(
    fc.record({ tcp_check: almost(fc.record({ port: almost(fc.integer({ min: 1, max: 65535 })), connect_timeout_ms: almost(fc.nat()), interval_ms: almost(fc.nat()) }, { requiredKeys: ['port'] })) }),
    fc.record({ http_check: almost(fc.record({ port: almost(fc.integer({ min: 1, max: 65535 })), path: almost(fc.constant('/h')), request_timeout_ms: almost(fc.nat()) }, { requiredKeys: ['port'] })) }),
    fc.record({ tcp_check: fc.record({ port: fc.constant(1) }), http_check: fc.record({ port: fc.constant(1), path: fc.constant('/') }) }),
    fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 2 }),
  ),
);
const definition = almost(fc.record({ checks: almost(fc.array(entry, { maxLength: 3 })), readiness_checks: almost(fc.array(entry, { maxLength: 2 })), log_source: scalar }, { requiredKeys: [] }));

const app = almost(
  fc.record(
    {
      name: almost(fc.constantFrom('web', 'a.b-c_1', '-x', 'x'.repeat(70))),
      command: almost(fc.array(almost(fc.constantFrom('node', 'app.mjs', '')), { maxLength: 3 })),
      image: scalar,
      env: almost(fc.dictionary(fc.string({ maxLength: 5 }), almost(fc.string({ maxLength: 5 })), { maxKeys: 3 })),
      instances: almost(fc.integer({ min: -1, max: 5 })),
      ports: almost(fc.array(almost(fc.integer({ min: 0, max: 70_000 })), { maxLength: 3 })),
      checks: almost(fc.array(entry, { maxLength: 3 })),
      startTimeout: scalar,
      livenessInterval: scalar,
      probe: scalar,
      driver: scalar,
      prewarm: scalar,
      restart: almost(fc.record({ immediate: scalar, backoffMin: scalar, backoffMax: scalar, maxRestarts: scalar }, { requiredKeys: [] })),
    },
    { requiredKeys: ['name', 'command', 'checks'] },
  ),
);
const config = almost(fc.record({ apps: almost(fc.array(app, { maxLength: 3 })), http: almost(fc.record({ listen: scalar, token: scalar, allowNonLoopback: scalar }, { requiredKeys: ['listen'] })), stateDir: scalar }, { requiredKeys: ['apps'] }));

/** Accepted, or a LifeguardFailure with one usage line; returns which, for the tally. */
function verdict(parse: () => unknown): 'valid' | 'usage' {
  try {
    parse();
    return 'valid';
  } catch (thrown) {
    if (!(thrown instanceof LifeguardFailure) || thrown.error.exitCode !== 2 || thrown.message.includes('\n')) throw thrown;
    return 'usage';
  }
}

for (const [name, arbitrary, parse] of [
  ['CheckDefinition', definition, (json: unknown) => parseCheckDefinition(json, { timeoutMs: 1000, http: { expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } }, 'fuzz')],
  ['supervisor config', config, parseConfig],
] as const) {
  t.test(`seed ${seed}: ${RUNS} ${name} documents`, async (t) => {
    const tally = { valid: 0, usage: 0 };
    fc.assert(
      fc.property(arbitrary, (json) => {
        tally[verdict(() => parse(json))] += 1;
      }),
      { seed, numRuns: RUNS },
    );
    t.pass(`valid ${tally.valid}, usage errors ${tally.usage}, nothing else thrown`);
  });
}
