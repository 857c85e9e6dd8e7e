// lifeguard watch's stderr lines about the engine: timed like the transition log, one when it is lost (whatever
// the retries), one when it is back.
import { PassThrough } from 'node:stream';
import t from 'tap';
import { EngineLog } from '../../src/watch/engine-log.js';

t.test('one timed line when the engine is lost, none per retry, one when it is back', async (t) => {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  let now = Date.parse('2026-12-06T21:00:00.000Z');
  const log = new EngineLog(out, () => new Date(now));
  log.write({ connected: true });
  log.write({ connected: false, reason: 'the engine closed the event stream', retryInMs: 100 });
  now += 100;
  log.write({ connected: false, reason: 'connect ENOENT /run/docker.sock', retryInMs: 200 });
  now += 200;
  log.write({ connected: true });
  t.equal(text, [
    '2026-12-06T21:00:00.000Z lifeguard watch: lost the engine (the engine closed the event stream); reconnecting, first in 100ms',
    '2026-12-06T21:00:00.300Z lifeguard watch: reconnected to the engine; listing the containers again',
    '',
  ].join('\n'));
});
