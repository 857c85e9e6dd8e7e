// The native dialect's flag syntax (src/cli/long-flags.ts), in-process: what each form of argument becomes, and the
// one-line usage error of each mistake.
import t from 'tap';
import { asLifeguardError } from '../../src/checks/errors.js';
import { formatLongFlagsHelp, type LongFlag, parseLongFlags } from '../../src/cli/long-flags.js';

const FLAGS: readonly LongFlag[] = [
  { name: 'port', value: '<port>', help: 'port' },
  { name: 'mode', value: '<mode>', help: 'mode', fallback: 'once' },
  { name: 'check', value: '<url>', help: 'check', repeatable: true },
  { name: 'header', value: '<h>', help: 'header', repeatable: true },
  { name: 'json', help: 'json' },
];

const values = (argv: string[]) => {
  const parsed = parseLongFlags(FLAGS, argv);
  if (parsed.kind !== 'values') throw new Error(`expected values, got ${parsed.kind}`);
  return parsed.values;
};
const usage = (argv: string[]): string => {
  try {
    parseLongFlags(FLAGS, argv);
  } catch (thrown) {
    const error = asLifeguardError(thrown);
    if (error.exitCode !== 2) throw thrown;
    return error.message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
};

t.test('values: --name value, --name=value, flags, repeatable lists, fallbacks', async (t) => {
  t.same(values([]), { mode: 'once' });
  t.same(values(['--port', '80', '--json', '--check', 'a', '--check=b']), { port: '80', json: true, check: ['a', 'b'], mode: 'once' });
  t.same(values(['--port=']), { port: '', mode: 'once' }, 'an empty value, given with =');
  t.same(values(['--port', '--json']), { port: '--json', mode: 'once' }, 'the next argument is the value, whatever it looks like');
  t.same(values(['--mode', 'liveness']), { mode: 'liveness' }, 'given wins over the fallback');
});

t.test('help and version wherever they are', async (t) => {
  for (const argv of [['--help'], ['-h'], ['--port', '1', '-h']]) t.equal(parseLongFlags(FLAGS, argv).kind, 'help', argv.join(' '));
  for (const argv of [['--version'], ['-V']]) t.equal(parseLongFlags(FLAGS, argv).kind, 'version', argv.join(' '));
});

t.test('each mistake is one line naming it', async (t) => {
  t.equal(usage(['--prot', '80']), "unknown option '--prot' (Did you mean --port?)");
  t.equal(usage(['--frobnicate']), "unknown option '--frobnicate'");
  t.equal(usage(['--prot=80']), "unknown option '--prot' (Did you mean --port?)");
  t.equal(usage(['-p']), "unknown option '-p'");
  t.equal(usage(['--port']), "option '--port <port>' argument missing");
  t.equal(usage(['--json=yes']), "option '--json' takes no value, got 'yes'");
  t.equal(usage(['extra']), "too many arguments: expected none, got 'extra'");
  t.equal(usage(['-']), "too many arguments: expected none, got '-'");
  t.equal(usage(['mode=readiness']), "too many arguments: expected none, got 'mode=readiness' (a flag is written with two dashes: --mode=readiness)");
  t.equal(usage(['--port', '1', '--port=2']), "--port given more than once ('1', then '2'); only --check and --header may repeat");
  t.equal(usage(['--json', '--json']), '--json given more than once; only --check and --header may repeat');
});

t.test('help lists every flag with its placeholder and default, between usage and the text after', async (t) => {
  const help = formatLongFlagsHelp('agent', 'Does things.', FLAGS, '\nAfter.');
  t.match(help, /^Usage: agent \[options\]\n\nDoes things\.\n\nOptions:\n {2}-V, --version +print the version\n/);
  t.match(help, /\n {2}--port <port> +port\n/);
  t.match(help, /\n {2}--mode <mode> +mode \(default: "once"\)\n/);
  t.match(help, /\n {2}-h, --help +print this help\n\nAfter\.\n$/);
});
