/**
 * `lifeguard watch`'s stderr lines about the engine: once when it is lost (with why, and when the next attempt
 * is), once when it is back. Each carries the time, as the transition log's lines do, so that the two logs can
 * be read side by side; retries while it stays away are not repeated.
 */
import type { Writable } from 'node:stream';
import type { EngineState } from './watcher.js';

export class EngineLog {
  private lost = false;

  constructor(
    private readonly stream: Writable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Suits `watcher.on('engine', log.write)`. */
  readonly write = (state: EngineState): void => {
    if (!state.connected) {
      if (this.lost) return;
      this.lost = true;
      this.stream.write(`${this.now().toISOString()} lifeguard watch: lost the engine (${state.reason}); reconnecting, first in ${state.retryInMs}ms\n`);
    } else if (this.lost) {
      this.lost = false;
      this.stream.write(`${this.now().toISOString()} lifeguard watch: reconnected to the engine; listing the containers again\n`);
    }
  };
}
