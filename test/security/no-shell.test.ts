// No shell between lifeguard and the processes it starts: argv items and env values reach the program literally,
// so shell syntax in them is inert; and no source file starts a process through a shell.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fixtureApp } from '../reliability/apps.js';
import { ROOT, runCli } from '../reliability/cli-supervisor.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('shell syntax in an app argv and env is passed literally, never run', async (t) => {
  const dir = tempDir(t);
  const traps = ['argv-subst', 'argv-semicolon', 'argv-backtick', 'env-subst'].map((name) => join(dir, name));
  const [subst, semicolon, backtick, envSubst] = traps as [string, string, string, string];
  // The app echoes nothing and exits 0 after a moment: a crash with code 0 is how this app "succeeds".
  const app = fixtureApp('literal', 'no-shell', {
    command: [process.execPath, '-e', 'setTimeout(() => process.exit(0), 300)', `$(touch ${subst})`, `; touch ${semicolon}`, `\`touch ${backtick}\``],
    env: { TRAP: `$(touch ${envSubst})` },
    probe: 'native',
  });
  const cli = await runCli(t, dir, [app]);
  await cli.until((all) => all.some((x) => x.to === 'crashed' && x.reason === 'exited with code 0'));
  await cli.stop();
  for (const trap of traps) t.notOk(existsSync(trap), `${trap.slice(dir.length + 1)}: no file created`);
});

t.test('no source file starts a process through a shell', async (t) => {
  const files = (function walk(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
    });
  })(join(ROOT, 'src'));
  // A shell option, child_process.exec/execSync (a command string), or a shell spawned by name with -c.
  const forbidden = [/shell\s*:\s*(true|['"])/, /\bexecSync\s*\(/, /(?<![.\w])exec\s*\(/, /['"](\/bin\/)?(ba|da)?sh['"]\s*,\s*\[\s*['"]-c['"]/];
  const hits = files.flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return forbidden.filter((pattern) => pattern.test(text)).map((pattern) => `${file.slice(ROOT.length)}: ${pattern}`);
  });
  t.ok(files.length > 20, `${files.length} files scanned`);
  t.same(hits, [], 'spawn/execFile with argv arrays only');
});
