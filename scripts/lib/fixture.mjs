// The apps of the benchmarks: ONE process serving many ports on 127.0.0.1, so that the machine measures health
// checking, not app start-up. Each port's GET /health answers 503 until its ready moment, then 200.
//
//   node fixture.mjs COUNT READY_MAX_MS SEED
// Prints {"ports":[...]} once every port listens. On the stdin line "go" every app starts at that moment: port i
// is ready at go + a delay drawn uniformly from [0, READY_MAX_MS) (a seeded generator, so runs are comparable),
// and the fixture prints {"goAt": ms, "readyAt": [...]} (epoch ms, one per port). On "served" it prints
// {"served": {address: n}}: the 200s answered so far per client address (bench:steady tells HAProxy's checks from
// the supervisor's by theirs). It exits on SIGTERM or when stdin closes.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const [count, readyMaxMs, seed] = process.argv.slice(2).map(Number);

/** mulberry32: a small seeded generator; the same seed gives every strategy the same ready moments. */
function random(state) {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ready moment by port; Infinity until "go". */
const readyAt = new Map();
/** 200s answered, by client address. */
const served = new Map();
// One handler for every port: the port a request came in on says which app it is.
const handle = (req, res) => {
  const ready = Date.now() >= readyAt.get(req.socket.localPort);
  if (ready) {
    const from = req.socket.remoteAddress;
    served.set(from, (served.get(from) ?? 0) + 1);
  }
  res.writeHead(ready ? 200 : 503, { 'content-length': '0', connection: 'close' }).end();
};

const servers = [];
for (let i = 0; i < count; i++) {
  const server = createServer(handle);
  server.listen(0, '127.0.0.1');
  servers.push(server);
}
await Promise.all(servers.map((server) => once(server, 'listening')));
const ports = servers.map((server) => server.address().port);
for (const port of ports) readyAt.set(port, Infinity);
process.stdout.write(`${JSON.stringify({ ports })}\n`);

const draw = random(seed);
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'served') {
      process.stdout.write(`${JSON.stringify({ served: Object.fromEntries(served) })}\n`);
      return;
    }
    if (line.trim() !== 'go') return;
    const goAt = Date.now();
    const moments = ports.map((port) => {
      const at = goAt + Math.floor(draw() * readyMaxMs);
      readyAt.set(port, at);
      return at;
    });
    process.stdout.write(`${JSON.stringify({ goAt, readyAt: moments })}\n`);
  })
  .on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
