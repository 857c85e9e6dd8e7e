// The README's quick start for the agent must work as written: its ```sh block is run as is (all but its
// `npm run build` line: the suite runs on a build already, and rebuilding under the other tests would pull dist/
// from under them), in a network namespace of its own where only loopback is up, so that port 8080 is free and
// nothing leaves it. Its output must be the one the README shows.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { run } from '../helpers/agent.js';
import { netnsSkip } from '../helpers/netns.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first ```<lang> block after `marker`. */
function blockAfter(marker: string, lang: string): string {
  const at = README.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${JSON.stringify(marker)}`);
  const match = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'm').exec(README.slice(at));
  if (match === null) throw new Error(`no \`\`\`${lang} block after ${JSON.stringify(marker)}`);
  return match[1]!;
}

t.test('the quick start: the agent alone, against a local server', { skip: netnsSkip }, async (t) => {
  const script = blockAfter('The agent alone, against a local server', 'sh');
  const shown = blockAfter('The first check passes as soon as the server listens', '');
  t.match(script, /^npm run build\n/, 'it starts with the build');
  const body = script.replace(/^npm run build\n/, '');
  const ended = await run('unshare', ['-n', 'sh', '-c', `ip link set lo up && cd "$ROOT" && { ${body}\n}`], {
    env: { ROOT, PATH: `${dirname(process.execPath)}:${process.env['PATH']}` },
    killAfterMs: 30_000,
  });
  t.equal(ended.stderr, '');
  // Elapsed times vary; everything else is as shown.
  const pattern = shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d\\\.\d\ds/g, '\\d+\\.\\d\\ds');
  t.match(ended.stdout, new RegExp(`^${pattern}$`));
});
