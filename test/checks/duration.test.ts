import t from 'tap';
import { formatDuration, parseDuration } from '../../src/checks/duration.js';

t.test('parses Go durations into milliseconds', async (t) => {
  const cases: [string, number][] = [['500ms', 500], ['2s', 2000], ['1m30s', 90_000], ['1.5s', 1500], ['0', 0], ['1h', 3_600_000], ['250us', 0.25], ['0s', 0], ['.5s', 500], ['1.s', 1000], ['2µs', 0.002], ['2μs', 0.002], ['1h1m1s1ms', 3_661_001], ['1m1ms', 60_001]];
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text);
});

t.test('refuses bare numbers, unknown units, negatives and empty text', async (t) => {
  for (const text of ['5', '1x', '-1s', '', 's', '1s ', ' 1s', '1.s.5', '+1s', '1e3ms', '.s', '1.2.3s', '1s5', '1ms5', '٣s', '1 s', '1sm']) t.equal(parseDuration(text), undefined, JSON.stringify(text));
});

t.test('formats as Go does', async (t) => {
  t.equal(formatDuration(60_000), '1m0s');
  t.equal(formatDuration(90_500), '1m30.5s');
  t.equal(formatDuration(500), '500ms');
  t.equal(formatDuration(2000), '2s');
});
