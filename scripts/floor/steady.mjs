// The runtime's floor for bench:steady: Node.js checking the fixture's ports as the supervisor's native probes do,
// with nothing of ours. Each port once per interval, spread over it in the supervisor's 20 ms slots (in port order,
// as HAProxy spreads its servers); a check is libuv's TCP handle itself (process.binding('tcp_wrap'), the handle
// src/checks/connection-handle.ts drives): connect, one request of the same bytes the check engine writes, the
// status read from the first chunk, a reset; a 1 s deadline timer per check, as every check has. No spec, probe
// loop, counter, history, metric or event: whatever the supervisor costs above this program is our code's.
//
//   node steady.mjs INTERVAL_MS PORT...
// stdin "mark": counts start from now; "stats": prints {"checks":N,"failures":N} since the mark (stdout, one line).
// It exits when stdin closes.
import { createInterface } from 'node:readline';

const [intervalMs, ...ports] = process.argv.slice(2).map(Number);
if (!(intervalMs > 0) || ports.length === 0 || !ports.every((port) => Number.isInteger(port) && port > 0 && port < 65536)) {
  process.stderr.write('usage: steady.mjs INTERVAL_MS PORT... (an interval above 0 and ports from 1 to 65535)\n');
  process.exit(2);
}
const SLOT_MS = 20;
const TIMEOUT_MS = 1000;
const slots = Math.max(1, Math.round(intervalMs / SLOT_MS));
const perSlot = ports.length / slots;

const tcp = process.binding('tcp_wrap');
const stream = process.binding('stream_wrap');
const { streamBaseState: state, kReadBytesOrError } = stream;
const readBuffer = Buffer.allocUnsafe(16 * 1024);
const write = new stream.WriteWrap();
// The check engine's request for the first port; every port's differs from it only in the Host header's digits.
const request = (port) => Buffer.from(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: lifeguard-healthcheck/floor\r\nConnection: close\r\n\r\n`, 'latin1');
const requests = new Map(ports.map((port) => [port, request(port)]));

let checks = 0;
let failures = 0;

// The request is written at once (a loopback socket takes 100 bytes whole), so the one write request is never
// left with libuv and is used again at once, as connection-handle.ts's spare one is.
const written = () => {};

function connected(status, handle) {
  if (status < 0) return end(handle, false);
  write.handle = handle;
  write.oncomplete = written;
  write.async = false;
  if (handle.writeBuffer(write, handle.request) !== 0) end(handle, false);
}

// `HTTP/1.x 200` in the first chunk: the fixture's whole answer comes in one.
function onRead() {
  const n = state[kReadBytesOrError];
  end(this, n >= 12 && readBuffer[9] === 0x32 && readBuffer[10] === 0x30 && readBuffer[11] === 0x30);
}

function end(handle, passed) {
  if (handle.done) return;
  handle.done = true;
  clearTimeout(handle.deadline);
  if (handle.reset() !== 0) handle.close();
  checks++;
  if (!passed) failures++;
}

function check(port) {
  const handle = new tcp.TCP(tcp.constants.SOCKET);
  handle.request = requests.get(port);
  handle.done = false;
  handle.deadline = setTimeout(() => end(handle, false), TIMEOUT_MS);
  const connect = new tcp.TCPConnectWrap();
  connect.oncomplete = connected;
  if (handle.connect(connect, '127.0.0.1', port) !== 0) return end(handle, false);
  handle.useUserBuffer(readBuffer);
  handle.onread = onRead;
  handle.readStart();
}

// Slots fall due on a grid from the start, as the supervisor's ticks do: a timer re-armed from when it ran would
// drift late by a little every slot, and check fewer ports a second than the interval says.
const start = Date.now();
let tick = 0;
let ticker;
function slot() {
  const at = tick % slots;
  const from = Math.round(at * perSlot);
  const to = Math.round((at + 1) * perSlot);
  for (let i = from; i < to; i++) check(ports[i]);
  tick++;
  ticker = setTimeout(slot, Math.max(0, start + tick * SLOT_MS - Date.now()));
}
slot();

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'mark') checks = failures = 0;
    else if (line === 'stats') process.stdout.write(`${JSON.stringify({ checks, failures })}\n`);
  })
  .on('close', () => {
    clearTimeout(ticker);
    process.exit(0);
  });
