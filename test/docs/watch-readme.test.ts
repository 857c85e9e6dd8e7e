// README's `lifeguard watch` section must not rot: every JSON block in it is a valid watch file, and every
// `lifeguard watch` command line in it parses and validates, with the same code the CLI runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseLifeguardArgs } from '../../src/cli/lifeguard.js';
import { parseWatchSettings } from '../../src/watch/settings.js';
import { ROOT } from '../supervisor/harness.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const start = readme.indexOf('## Watching containers lifeguard did not start');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const blocks = (lang: string) => [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] as string);

t.ok(start >= 0, 'the section exists');

t.test('every JSON block is a valid watch file', async (t) => {
  const json = blocks('json');
  t.ok(json.length > 0);
  for (const text of json) {
    const file = JSON.parse(text) as { watch: unknown };
    t.doesNotThrow(() => parseWatchSettings(file.watch, { values: {}, flagOf: {} }));
  }
});

t.test('every lifeguard watch command line parses', async (t) => {
  const lines = blocks('sh').flatMap((block) => block.split('\n')).filter((line) => /lifeguard(\.js)? watch /.test(line));
  t.ok(lines.length > 0);
  for (const line of lines) {
    const argv = line.replace(/#.*/, '').trim().split(/\s+/);
    const invocation = parseLifeguardArgs(argv.slice(argv.indexOf('watch')));
    t.equal(invocation.kind, 'watch', line);
    if (invocation.kind === 'watch') t.doesNotThrow(() => parseWatchSettings(undefined, invocation.flags), line);
  }
});
