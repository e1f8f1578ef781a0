// Kata: async-channel (week 2, Async & Threading).
//
// A pipeline reads records, transforms them and writes them out, each stage at its own
// speed. Between two stages sits a channel: a bounded queue where a fast producer waits for
// a slow consumer (backpressure) instead of filling memory, and a consumer waits for work
// instead of polling. Go has them built in; here you build one.
//
// - `new Channel(capacity)`: up to `capacity` buffered values (an integer >= 0, else
//   RangeError; Infinity too, since an unbounded buffer has no backpressure). Capacity 0 is
//   a rendezvous: a send completes when a receiver takes it.
// - `send(value)` resolves once the value is accepted: handed to a waiting receiver or put
//   in the buffer; while the buffer is full it waits. After `close()` it rejects with
//   ChannelClosedError.
// - `receive()` resolves with the oldest value, waiting while there is none; once the
//   channel is closed and drained it rejects with ChannelClosedError.
// - `close()` stops accepting values: buffered values are still delivered, waiting
//   receivers are released, senders still waiting are refused (ChannelClosedError).
//   `for await (const v of channel)` ends after the last value. Closing twice is harmless.
// - Fairness: waiting receivers get values in the order they started waiting; waiting
//   senders are accepted in the order they arrived, so values come out in send order.
// - `{ signal }` on send/receive: aborting a waiting operation rejects it with the reason
//   and removes it from the line (an aborted send's value is never delivered); an already
//   aborted signal rejects at once. A served waiter leaves no listener on its signal.
//
// Tests: tests/async-channel.test.ts (run `npm run check week2 async-channel`).
// Keep the exported names and signatures: the tests import them.
import { NotImplementedError } from "#kata";

/** Thrown by `send` after `close()`, and by `receive` once the channel is closed and empty. */
export class ChannelClosedError extends Error {
  readonly code = "ERR_CHANNEL_CLOSED";

  constructor(message = "the channel is closed") {
    super(message);
    this.name = "ChannelClosedError";
  }
}

export interface ChannelOperationOptions {
  /** Gives up waiting: the operation rejects with `signal.reason` and leaves no trace in the channel. */
  signal?: AbortSignal;
}

/**
 * A bounded async channel for producer/consumer pipelines. `send` waits while the buffer is
 * full (backpressure), `receive` waits while it is empty; waiters are served in arrival order.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly capacity: number;
  // TODO: a buffer of at most `capacity` values, a FIFO of waiting senders (value, resolve,
  //       reject) and one of waiting receivers, and a closed flag.

  constructor(capacity: number) {
    // TODO: validate and keep `capacity`.
    this.capacity = capacity;
    throw new NotImplementedError("async-channel");
  }

  /** How many values sit in the buffer (never more than `capacity`). */
  get size(): number {
    // TODO
    throw new NotImplementedError("async-channel");
  }

  get closed(): boolean {
    // TODO
    throw new NotImplementedError("async-channel");
  }

  /** Delivers `value`, waiting while the buffer is full. Rejects with ChannelClosedError after `close()`. */
  send(value: T, options: ChannelOperationOptions = {}): Promise<void> {
    // TODO: aborted? closed? a waiting receiver (give it the value)? room in the buffer?
    //       otherwise join the senders' line (and leave it if the signal aborts).
    void value;
    void options;
    throw new NotImplementedError("async-channel");
  }

  /** Takes the oldest value, waiting while the channel is empty. Rejects with ChannelClosedError once closed and drained. */
  receive(options: ChannelOperationOptions = {}): Promise<T> {
    // TODO: aborted? a buffered value (then move the first waiting sender's value in)? a
    //       waiting sender (capacity 0)? closed? otherwise join the receivers' line.
    void options;
    throw new NotImplementedError("async-channel");
  }

  /** Stops accepting values; buffered values are still delivered. */
  close(): void {
    // TODO: mark closed, release waiting receivers and refuse waiting senders.
    throw new NotImplementedError("async-channel");
  }

  /** Yields values until the channel is closed and drained. Breaking out does not close the channel. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    // TODO: call receive() until it rejects with ChannelClosedError.
    throw new NotImplementedError("async-channel");
  }
}
