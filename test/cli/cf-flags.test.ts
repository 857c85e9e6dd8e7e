// The CF dialect's command line as Go's flag package reads it, for what Cloud Foundry's binary (a Go program)
// refuses: Go's own line, then the usage, on stderr, exit 2; -help: the usage alone, exit 0. Compared side by side
// with that binary (cloudfoundry/healthcheck at 6208b09). Each runs in a namespace with no interface up, so a
// command line that got past the parser could reach nothing (it would end 3, not 2).
import t from 'tap';
import { runAgentIsolated } from '../helpers/netns.js';

const USAGE_HEAD = 'Usage of healthcheck (Cloud Foundry flags; durations in Go syntax):\n';

/** [argv, Go's line] */
const REFUSED: readonly (readonly [readonly string[], string])[] = [
  [['-invalid_flag'], 'flag provided but not defined: -invalid_flag'],
  [['-port=8080', '-frobnicate=1'], 'flag provided but not defined: -frobnicate'],
  [['-port'], 'flag needs an argument: -port'],
  [['-uri=/', '-timeout'], 'flag needs an argument: -timeout'],
  [['-timeout=abc'], 'invalid value "abc" for flag -timeout: parse error'],
  [['-timeout=5'], 'invalid value "5" for flag -timeout: parse error'],
  [['-startup-interval=1x'], 'invalid value "1x" for flag -startup-interval: parse error'],
  [['-liveness-interval=1s2'], 'invalid value "1s2" for flag -liveness-interval: parse error'],
  [['-readiness-timeout=5'], 'invalid value "5" for flag -readiness-timeout: parse error'],
  [['-port=8080', '-external-port=maybe'], 'invalid boolean value "maybe" for -external-port: parse error'],
  // Names of Object.prototype's properties are no flag and no boolean (the tables are read by own keys only).
  [['-port=8080', '-external-port=constructor'], 'invalid boolean value "constructor" for -external-port: parse error'],
  [['-port=8080', '-toString=1'], 'flag provided but not defined: -toString'],
  [['-port=8080', '---uri=/'], 'bad flag syntax: ---uri=/'],
  // Beyond that binary: it knew one generation of flags; the hint says why a flag is unknown here.
  [['-readiness-interval=1s', '-readiness-timeout=1s', '-startup-interval=1s'], 'flag provided but not defined: -startup-interval (-readiness-timeout selects'],
  [['-port=8080', '--mode=readiness'], "flag provided but not defined: -mode (the single-dash flag '-port=8080' selected Cloud Foundry's flags"],
];

for (const [argv, line] of REFUSED) {
  t.test(`${JSON.stringify(argv)}: Go's "${line.split(' (')[0]}", then the usage, exit 2`, async (t) => {
    const ended = await runAgentIsolated(argv);
    t.equal(ended.code, 2);
    t.equal(ended.stdout, '');
    const [first, ...rest] = ended.stderr.split('\n');
    t.ok(first?.startsWith(line), `${JSON.stringify(first)} starts with ${JSON.stringify(line)}`);
    t.ok(rest.join('\n').startsWith(USAGE_HEAD), 'the usage follows');
    t.match(ended.stderr, /-startup-interval duration/);
  });
}

t.test('-help and -h among CF flags: the usage on stderr, exit 0, whatever follows (Go stops there)', async (t) => {
  for (const argv of [['-help'], ['-port=8080', '-h', '-frobnicate']]) {
    const ended = await runAgentIsolated(argv);
    t.same([ended.code, ended.stdout], [0, ''], argv.join(' '));
    t.ok(ended.stderr.startsWith(USAGE_HEAD), argv.join(' '));
  }
});

t.test('a duration past what a timer holds: one line naming the flag, as given, exit 2', async (t) => {
  for (const [flag, text] of [['timeout', '600h'], ['startup-timeout', '+600h']]) {
    const ended = await runAgentIsolated(['-port=8080', `-${flag}=${text}`]);
    t.same([ended.code, ended.stdout, ended.stderr], [2, '', `invalid -${flag} '${text}': expected a duration of at most 596h31m23.647s\n`]);
  }
});

t.test("durations with a sign, as Go's time.ParseDuration takes them: a negative interval is not set", async (t) => {
  // Not set: one check, which finds no interface here (exit 3, not a usage error).
  const ended = await runAgentIsolated(['-port=8080', '-liveness-interval=-1s', '-startup-timeout=+1m']);
  t.same([ended.code, ended.stderr], [3, 'failure to find suitable interface\n']);
});
