// Kata: structured-logging
//
// A logger that writes synchronously to a destination that stalls (a log shipper that hangs,
// stdout piped into a process that stopped reading) stalls every request with it. A logger
// that keeps writing into a stalled stream grows its buffer until the process runs out of
// memory. Build the sink in between:
// - write(line) never blocks and never throws. While the destination accepts (its last
//   write returned true, or it emitted 'drain' since), hand the line straight over. Once a
//   write returns false, stop writing and wait for 'drain'; meanwhile keep lines in a buffer
//   of at most maxBufferedBytes (Buffer.byteLength), and drop (and count) what does not fit.
// - On 'drain', hand the buffered lines over in order, several joined into one chunk of at
//   most maxChunkBytes (a single longer line goes alone), stopping again if the destination
//   fills up.
// - A destination that fails (a write callback with an error, an 'error' event, a write that
//   throws) is broken: what it lost and everything after counts as dropped, and the process
//   does not crash.
// - stats(): written (handed over, not failed), buffered, bufferedBytes, dropped. Every line
//   is exactly one of written, buffered or dropped.
// - flush(): resolves once nothing is buffered and every handed-over write has called back,
//   and right away once the destination is broken (a broken one may never call back).
//
// Tests: tests/log-sink.test.ts (npm run check week10 structured-logging).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { LogSink } from "./logger";

/**
 * Where a BoundedSink hands its lines: a Node Writable (process.stdout, a file or socket
 * stream) has this shape. `write` returning false means "I am full": wait for 'drain'.
 */
export interface LogDestination {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
  once(event: "drain", listener: () => void): unknown;
  on?(event: "error", listener: (error: Error) => void): unknown;
}

export interface BoundedSinkOptions {
  /** Bytes of lines held while the destination is full. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Most characters joined into one chunk when catching up after a drain. Default 256 KiB. */
  maxChunkBytes?: number;
}

export interface SinkStats {
  /** Lines handed to the destination. */
  written: number;
  /** Lines waiting for the destination to drain. */
  buffered: number;
  /** Bytes of those lines. */
  bufferedBytes: number;
  /** Lines lost: the buffer was full, or the destination failed. */
  dropped: number;
}

/** A sink that never makes the caller wait, in bounded memory, counting what it drops. */
export class BoundedSink implements LogSink {
  constructor(destination: LogDestination, options: BoundedSinkOptions = {}) {
    // TODO: RangeError for a negative or fractional size; listen for 'error' if you can.
    throw new NotImplementedError("structured-logging");
  }

  /** Takes a line; never blocks, never throws. */
  write(line: string): void {
    // TODO
    throw new NotImplementedError("structured-logging");
  }

  stats(): SinkStats {
    // TODO
    throw new NotImplementedError("structured-logging");
  }

  /** Resolves once every buffered line was handed over and the destination confirmed it (or failed). */
  flush(): Promise<void> {
    // TODO
    throw new NotImplementedError("structured-logging");
  }
}
