/**
 * The instance state machine's and the routing state machine's moves, as the transition log writes them: what
 * run's instances and watch's containers both report (ARCHITECTURE.md "The instance state machine").
 */

/**
 * The states an instance can be in, in the order of a life, listed here alone: the metrics' series, the demo's
 * table and the state machine's table of moves (instance.ts, which must name every one) all take them from here.
 */
export const INSTANCE_STATES = ['scheduled', 'starting', 'healthy', 'unhealthy', 'timed-out', 'crashed', 'destroying', 'destroyed', 'claimed', 'given-up'] as const;

/** The `to` of a transition, and the state an instance is in (ARCHITECTURE.md "The instance state machine"). */
export type InstanceState = (typeof INSTANCE_STATES)[number];

/**
 * `lifeguard watch`'s states for a container it does not own (watch/container-watch.ts): it never creates or
 * destroys one, so it has words of its own for waiting out a backoff (`backing-off`), carrying out its action
 * (`restarting`, `stopping`) and a container no longer running (`stopped`: exited, paused, removed or stopped by us).
 */
export const WATCH_STATES = ['starting', 'healthy', 'unhealthy', 'backing-off', 'restarting', 'stopping', 'given-up', 'stopped'] as const;

export type WatchState = (typeof WATCH_STATES)[number];

/**
 * Why a transition happened, as a field that log readers, metrics and tests match on instead of the prose:
 * `backfill` and `restart` schedule an instance; `crashed`, `timed-out`, `unhealthy` and `agent-lost` (the probe
 * itself broke) end one; `asked` and `stopping` (the supervisor stops) destroy one on request; `restart-limit`
 * gives one up. A `destroying` and `destroyed` carry the cause of the failure or request that led to them.
 * `permanent` is a start that no retry can fix (no such command, no such image): it crashes the instance, and gives
 * it up at once. A config applied to a running supervisor (README "Reload and apply") schedules replacements with
 * `roll`, destroys with `rolled` (replaced by a rolling update), `scaled-down` or `removed` (its app left the config),
 * and gives up with `roll-halted` the replacement that never became healthy, which halts the roll.
 */
export type TransitionCause =
  | 'backfill'
  | 'restart'
  | 'crashed'
  | 'timed-out'
  | 'unhealthy'
  | 'agent-lost'
  | 'asked'
  | 'stopping'
  | 'restart-limit'
  | 'permanent'
  | 'roll'
  | 'rolled'
  | 'scaled-down'
  | 'removed'
  | 'roll-halted';

/** The facts a transition may carry beside its message. */
export interface TransitionFacts {
  readonly cause?: TransitionCause;
  /** A replacement: the instance it replaces. */
  readonly replaces?: string;
  /** A replacement: its lineage's restart number, and the most the restart policy allows. */
  readonly restart?: number;
  readonly restartLimit?: number;
}

/**
 * Whether an instance is in its app's endpoints: a second small state machine beside InstanceState, for apps with
 * routing checks only (without them, `healthy` is routable and the log says nothing more). Its first verdict
 * comes from null; it goes back and forth on its routing checks' verdicts, and to `unroutable` when a routable
 * instance leaves `healthy`.
 */
export type RoutingState = 'routable' | 'unroutable';

/**
 * Why an instance's routability changed: its routing checks' verdict (`checks-passed`, `checks-failed`), or the
 * cause of the transition that took a routable instance out of `healthy` (`unhealthy`, `crashed`, `asked`, ...).
 */
export type RoutingCause = 'checks-passed' | 'checks-failed' | TransitionCause;

/** What every line of the transition log has. */
interface TransitionLine {
  /** ISO 8601. */
  readonly time: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly app: string;
  readonly instance: string;
  readonly msg: string;
  readonly reason?: string;
}

/** A move of the instance state machine. */
export interface StateTransition extends TransitionLine, TransitionFacts {
  readonly from: InstanceState | null;
  readonly to: InstanceState;
}

/** A move of the routing state machine. */
export interface RoutingTransition extends TransitionLine {
  readonly from: RoutingState | null;
  readonly to: RoutingState;
  readonly cause: RoutingCause;
  /** The instance machine's facts, never on a routing move (so that readers of the log need not tell the two apart to read them). */
  readonly replaces?: undefined;
  readonly restart?: undefined;
  readonly restartLimit?: undefined;
}

export type Transition = StateTransition | RoutingTransition;

/** A move of a watched container's state machine (`lifeguard watch`): no causes or lineage facts. */
export interface WatchTransition extends TransitionLine {
  readonly from: WatchState | null;
  readonly to: WatchState;
  readonly cause?: undefined;
  readonly replaces?: undefined;
  readonly restart?: undefined;
  readonly restartLimit?: undefined;
}

export function isRoutingTransition(t: Transition): t is RoutingTransition {
  return t.to === 'routable' || t.to === 'unroutable';
}
