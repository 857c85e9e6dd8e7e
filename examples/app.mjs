// The demo app: an HTTP server on 127.0.0.1:$PORT that becomes ready after a random delay and then, per
// instance, draws one fate. The odds come from the environment so that examples/demo.json can make each app
// misbehave in its own way:
//   DEMO_CRASH_ODDS   exits with status 1 a while after becoming ready
//   DEMO_SICK_ODDS    starts failing a while after becoming ready: /health answers 500
//                     (DEMO_SICK_MODE=close: stops listening instead, which a TCP check notices)
//   DEMO_STUCK_ODDS   never becomes ready: never listens
//   otherwise         healthy until stopped
// DEMO_READY_MS (default 1500) bounds the ready delay; DEMO_TROUBLE_MS (default 6000) bounds how long a
// crashing or sick instance looks healthy first. Each odds is a number from 0 to 1, drawn in that order.
import { createServer } from 'node:http';

const env = process.env;
const odds = (name) => {
  const value = Number(env[name] ?? 0);
  if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be a number from 0 to 1, got ${env[name]}`);
  return value;
};
const ms = (name, fallback) => Number(env[name] ?? fallback);
const between = (min, max) => Math.round(min + Math.random() * (max - min));

const port = Number(env.PORT ?? 8080);
const fates = [
  ['crash', odds('DEMO_CRASH_ODDS')],
  ['sick', odds('DEMO_SICK_ODDS')],
  ['stuck', odds('DEMO_STUCK_ODDS')],
];
let draw = Math.random();
const fate = fates.find(([, p]) => (draw -= p) < 0)?.[0] ?? 'healthy';

let sick = false;
const server = createServer((req, res) => {
  const status = req.url === '/health' && sick ? 500 : 200;
  res.writeHead(status, { 'content-type': 'text/plain' }).end(`${env.GREETING ?? 'hello'} from pid ${process.pid} (${fate})\n`);
});

// SIGTERM is how the supervisor stops an instance: close and leave at once, as a well-behaved app does.
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});

// Alive until stopped or its fate ends it, even while nothing listens (stuck, or sick with DEMO_SICK_MODE=close).
setInterval(() => {}, 60_000);

if (fate !== 'stuck') {
  setTimeout(() => {
    server.listen(port, '127.0.0.1', () => {
      if (fate === 'healthy') return;
      setTimeout(() => {
        if (fate === 'crash') process.exit(1);
        sick = true;
        if (env.DEMO_SICK_MODE === 'close') {
          server.close();
          server.closeAllConnections();
        }
      }, between(1000, ms('DEMO_TROUBLE_MS', 6000)));
    });
  }, between(200, ms('DEMO_READY_MS', 1500)));
}
