// The response head reader alone: however a response is split into reads, the outcome is the same.
import t from 'tap';
import { MAX_HEADER_BYTES } from '../../src/checks/reason.js';
import { type HeadOutcome, ResponseHeadReader } from '../../src/checks/response-head.js';

/** What a head decides, without where in the last read it ended (which depends on the split). */
type Verdict = { kind: 'status'; status: number; location: string | undefined } | { kind: 'malformed'; reason: string };

function read(pieces: readonly Buffer[]): Verdict | undefined {
  const reader = new ResponseHeadReader();
  for (const piece of pieces) {
    const outcome = reader.push(piece);
    if (outcome !== undefined) return verdict(outcome);
  }
  return undefined;
}

function verdict(outcome: HeadOutcome): Verdict {
  return outcome.kind === 'malformed' ? outcome : { kind: 'status', status: outcome.status, location: outcome.location };
}

const RESPONSES: readonly [string, Verdict | undefined][] = [
  ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', { kind: 'status', status: 200, location: undefined }],
  ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nlocation:  /next \r\nLocation: /second\r\n\r\n', { kind: 'status', status: 302, location: '/next' }],
  ['HTTP/1.0 200\n\n', { kind: 'status', status: 200, location: undefined }],
  ['HTTP/1.1 101 Switching Protocols\r\n\r\n', { kind: 'status', status: 101, location: undefined }],
  ['HTTP/1.1 200 OK\r\nServer: x\r\n', undefined],
  // Refused on the byte where the version differs, past the first: `HTTP/2` is not `HTTP/1.`.
  ['HTTP/2 200 OK\r\n\r\n', { kind: 'malformed', reason: 'malformed HTTP response: expected an HTTP/1.x status line; received "HTTP/2 200 OK"' }],
  ['SSH-2.0-OpenSSH_9.6\r\n', { kind: 'malformed', reason: 'malformed HTTP response: expected an HTTP/1.x status line; received "SSH-2.0-OpenSSH_9.6"' }],
];

t.test('every split point of every response gives the whole response\'s outcome', async (t) => {
  // A banner split inside its first line is refused at the first byte that cannot start `HTTP/1.`, quoting only
  // what had arrived; everything else is decided exactly as from one read.
  const agrees = (outcome: Verdict | undefined, expected: Verdict | undefined) =>
    expected?.kind === 'malformed' ? outcome?.kind === 'malformed' : JSON.stringify(outcome) === JSON.stringify(expected);
  for (const [text, expected] of RESPONSES) {
    const bytes = Buffer.from(text, 'latin1');
    t.same(read([bytes]), expected, JSON.stringify(text));
    const disagreements: string[] = [];
    for (let at = 1; at < bytes.length; at++) {
      for (let second = at; second < bytes.length; second += 7) {
        const outcome = read([bytes.subarray(0, at), bytes.subarray(at, second), bytes.subarray(second)]);
        if (!agrees(outcome, expected)) disagreements.push(`split at ${at}, ${second}: ${JSON.stringify(outcome)}`);
      }
    }
    const byByte = read([...bytes].map((byte) => Buffer.from([byte])));
    if (!agrees(byByte, expected)) disagreements.push(`byte by byte: ${JSON.stringify(byByte)}`);
    t.same(disagreements, [], `${JSON.stringify(text)} in pieces`);
  }
});

t.test('the head limit counts every byte up to the end of the final head, line ends included', async (t) => {
  const head = (size: number) => {
    const start = 'HTTP/1.1 200 OK\r\nX: ';
    return Buffer.from(`${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`, 'latin1');
  };
  t.same(read([head(MAX_HEADER_BYTES)]), { kind: 'status', status: 200, location: undefined }, 'exactly at the limit');
  t.match(read([head(MAX_HEADER_BYTES + 1)]), { kind: 'malformed', reason: /headers larger than 16384 bytes$/ });
  const over = head(MAX_HEADER_BYTES + 1);
  t.match(read([...over].map((byte) => Buffer.from([byte]))), { kind: 'malformed' }, 'byte by byte too');
});

t.test('a read buffer reused by the caller does not change what was kept', async (t) => {
  const reader = new ResponseHeadReader();
  const buffer = Buffer.from('HTTP/1.1 302 Found\r\nLocation: /a', 'latin1');
  t.equal(reader.push(buffer), undefined);
  buffer.fill(0x7a);
  t.match(reader.push(Buffer.from('bc\r\n\r\n', 'latin1')), { kind: 'status', status: 302, location: '/abc' });
});

t.test('kept headers: every value of the names asked for, across interim heads only the final ones; the body starts after the blank line', async (t) => {
  const text = 'HTTP/1.1 100 Continue\r\nX-State: interim\r\n\r\nHTTP/1.1 200 OK\r\nx-state: one\r\nContent-Length: 4\r\nX-State:  two \r\nOther: no\r\n\r\nbody';
  const bytes = Buffer.from(text, 'latin1');
  for (const at of [1, 30, 60, bytes.length - 4, bytes.length - 1]) {
    const reader = new ResponseHeadReader(new Set(['x-state', 'content-length']));
    const [first, second] = [bytes.subarray(0, at), bytes.subarray(at)];
    const early = reader.push(first);
    const outcome = early ?? reader.push(second);
    if (outcome?.kind !== 'status') throw new Error(`no head at split ${at}`);
    t.same([...outcome.headers], [['x-state', ['one', 'two']], ['content-length', ['4']]], `split at ${at}`);
    const body = early === undefined ? second.subarray(outcome.bodyOffset) : Buffer.concat([first.subarray(outcome.bodyOffset), second]);
    t.equal(body.toString(), 'body', `body offset at split ${at}`);
  }
});
