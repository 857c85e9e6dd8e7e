import t from 'tap';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../src/checks/version.js';

t.test('VERSION matches package.json', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(VERSION, pkg.version);
});
