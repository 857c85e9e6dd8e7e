/**
 * Writing to a Server-Sent Events client (the status page's /events, the endpoints watch): a client that stops
 * reading is dropped rather than buffered for, so that it can never make the supervisor hold events in memory.
 */
import type { ServerResponse } from 'node:http';

/** A client this far behind is dropped. */
const MAX_BACKLOG_BYTES = 1024 * 1024;

export function writeEvent(res: ServerResponse, text: string): void {
  if (res.writableLength > MAX_BACKLOG_BYTES) {
    res.destroy();
    return;
  }
  res.write(text);
}
