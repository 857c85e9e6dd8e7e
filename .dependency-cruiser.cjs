// The import order of src/ (ARCHITECTURE.md "Layers"): each room imports only the rooms below it in ORDER, none
// above, and no import cycle anywhere (type-only and dynamic imports included). Checked by
// test/architecture/imports.test.ts (`npx depcruise src` runs it by hand).

/** Bottom first. `supervisor` is supervisor/'s own top files (the Supervisor, its preflight, its built-in drivers). */
const ORDER = [
  'checks', // one check to its verdict
  'engine', // the probe loop
  'protocol', // what crosses the agent/supervisor boundary
  'agent', // the healthcheck agent's round
  'shared', // what run and watch both stand on
  'probes', // how an instance is watched
  'supervisor/host', // the machine: state directory, lock, cgroups, containment, instance output
  'supervisor/spec', // what an app is
  'supervisor/drivers', // where an instance runs
  'supervisor/app', // instances, the app controller, pool, rollout, history
  'supervisor/serve', // HTTP endpoint, status page, endpoints, metrics, transition log
  'supervisor/config', // the config file and the supervisor's options
  'supervisor',
  'watch', // lifeguard watch: containers of a Docker engine
  'cli', // argument parsing and entry points
];

const room = (name) => (name === 'supervisor' ? '^src/supervisor/[^/]+$' : `^src/${name}/`);

module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', from: {}, to: { circular: true } },
    { name: 'resolves', comment: 'every import names a file or package that is there', severity: 'error', from: {}, to: { couldNotResolve: true } },
    ...ORDER.slice(0, -1).map((name, i) => ({
      name: `${name}-imports-below`,
      comment: `${name} imports only rooms below it: ${ORDER.slice(0, i).join(', ') || 'none of ours'}`,
      severity: 'error',
      from: { path: room(name) },
      to: { path: ORDER.slice(i + 1).map(room) },
    })),
    {
      name: 'agent-only-from-cli',
      comment: 'the agent is a program of its own: only its entry points (cli) and the library face load it',
      severity: 'error',
      from: { pathNot: ['^src/(agent|cli)/', '^src/index\\.ts$'] },
      to: { path: '^src/agent/' },
    },
    {
      name: 'watch-beside-supervisor',
      comment: 'lifeguard watch stands on shared and probes, never on the supervisor\'s rooms',
      severity: 'error',
      from: { path: '^src/watch/' },
      to: { path: '^src/supervisor/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
