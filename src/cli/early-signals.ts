/**
 * Imported first by both entry points, so that it runs before any other module is even evaluated: from here
 * on a SIGUSR1 ends the process as its default action would (exit 128+10), instead of opening Node's inspector
 * on 127.0.0.1:9229. Each program later gives the signal its own reaction (./signals.ts). The launchers in bin/
 * install the same guard on their first line, for the time it takes to load the program itself.
 */
import { signalExitCode } from './signals.js';

process.on('SIGUSR1', () => process.exit(signalExitCode('SIGUSR1')));
