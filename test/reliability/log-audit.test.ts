// The log audit the fault tests and the soak rely on must itself catch what it claims to.
import t from 'tap';
import { auditLog } from '../helpers/log-audit.js';
import type { RoutingTransition, StateTransition, Transition, TransitionFacts } from '../../src/shared/transition.js';

const line = (instance: string, from: StateTransition['from'], to: StateTransition['to'], msg = '', reason?: string, facts: TransitionFacts = {}): Transition => ({
  time: '', level: 'info', app: 'web', instance, from, to, msg, ...(reason === undefined ? {} : { reason }), ...facts,
});
const crashCycle = [
  line('web-1', null, 'scheduled'),
  line('web-1', 'scheduled', 'starting'),
  line('web-1', 'starting', 'crashed'),
  line('web-1', 'crashed', 'destroying'),
  line('web-1', 'destroying', 'destroyed'),
];

t.same(auditLog([...crashCycle, line('web-2', null, 'scheduled', 'Rescheduled to replace web-1, starting at once', undefined, { cause: 'restart', replaces: 'web-1' })], true), [], 'a sound crash cycle');
t.match(auditLog(crashCycle, true), [/web-1: destroyed after a failure, never rescheduled/], 'a crash with no reschedule');
t.match(auditLog([crashCycle[0]!, crashCycle[2]!], false), [/web-1: starting -> crashed after scheduled/], 'a missing line breaks the chain');
t.match(auditLog([...crashCycle.slice(0, 4)], true), [/last state is destroying/], 'a failure never destroyed, once the run is over');
t.same(auditLog([...crashCycle.slice(0, 4)], false), [], '... but only in progress mid-run');
const stopping = [line('web-2', null, 'scheduled'), line('web-2', 'scheduled', 'destroying', '', 'supervisor stopping', { cause: 'stopping' })];
t.same(auditLog([...crashCycle.slice(0, 4), ...stopping, crashCycle[4]!], true), [], 'no reschedule owed once the supervisor is stopping');

const routing = (from: RoutingTransition['from'], to: RoutingTransition['to'], cause: RoutingTransition['cause']): Transition => ({ time: '', level: 'info', app: 'web', instance: 'web-1', from, to, msg: '', cause });
const routed = [
  line('web-1', null, 'scheduled'),
  line('web-1', 'scheduled', 'starting'),
  line('web-1', 'starting', 'healthy'),
  routing(null, 'routable', 'checks-passed'),
  routing('routable', 'unroutable', 'checks-failed'),
  line('web-1', 'healthy', 'destroying', '', 'asked', { cause: 'asked' }),
  line('web-1', 'destroying', 'destroyed', '', undefined, { cause: 'asked' }),
];
t.same(auditLog(routed, true), [], 'routing lines chain among themselves, beside the instance\'s');
t.match(auditLog([...routed, routing('routable', 'unroutable', 'asked')], true), [/web-1: routable -> unroutable after unroutable/], 'a broken routing chain');
