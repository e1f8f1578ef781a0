// Reference solution for the async-channel kata: a bounded channel with backpressure,
// first-come-first-served waiters, cancellation and a close that drains.

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

interface Waiter<P> {
  payload: P;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A bounded async channel for producer/consumer pipelines. `send` waits while the buffer is
 * full (backpressure), `receive` waits while it is empty; waiters are served in arrival order.
 * Capacity 0 is a rendezvous: every send waits for a receiver to take its value.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly capacity: number;
  // A ring buffer: its size is fixed at construction, which is the memory bound.
  readonly #ring: (T | undefined)[];
  #start = 0;
  #count = 0;
  // First come, first served. Arrays are fine as FIFOs here: V8 shifts small arrays in
  // place, and the lines are as long as the waiting callers, which backpressure bounds.
  readonly #senders: Waiter<T>[] = [];
  readonly #receivers: Waiter<undefined>[] = [];
  #closed = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be an integer >= 0, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Array<T | undefined>(capacity);
  }

  /** How many values sit in the buffer (never more than `capacity`). */
  get size(): number {
    return this.#count;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Delivers `value`, waiting while the buffer is full. Rejects with ChannelClosedError after `close()`. */
  send(value: T, options: ChannelOperationOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(new ChannelClosedError("cannot send on a closed channel"));

    // A waiting receiver means the buffer is empty: hand the value over directly.
    const receiver = this.#receivers.shift();
    if (receiver) {
      this.#settle(receiver);
      receiver.resolve(value);
      return Promise.resolve();
    }
    if (this.#count < this.capacity) {
      this.#push(value);
      return Promise.resolve();
    }
    return this.#wait(this.#senders, value, signal) as Promise<void>;
  }

  /** Takes the oldest value, waiting while the channel is empty. Rejects with ChannelClosedError once closed and drained. */
  receive(options: ChannelOperationOptions = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);

    if (this.#count > 0) {
      const value = this.#shift();
      // A slot opened: the longest-waiting sender moves its value into the buffer, which
      // keeps the values in send order.
      const sender = this.#senders.shift();
      if (sender) {
        this.#settle(sender);
        this.#push(sender.payload);
        sender.resolve(undefined);
      }
      return Promise.resolve(value);
    }
    // Capacity 0: a waiting sender hands its value over directly.
    const sender = this.#senders.shift();
    if (sender) {
      this.#settle(sender);
      sender.resolve(undefined);
      return Promise.resolve(sender.payload);
    }
    if (this.#closed) return Promise.reject(new ChannelClosedError());
    return this.#wait(this.#receivers, undefined, signal) as Promise<T>;
  }

  /**
   * Stops accepting values. Buffered values are still delivered; receivers waiting on an
   * empty channel are released with ChannelClosedError (a `for await` loop just ends), and
   * senders still waiting are refused with it, since their values were never accepted.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) {
      this.#settle(r);
      r.reject(new ChannelClosedError());
    }
    for (let s = this.#senders.shift(); s; s = this.#senders.shift()) {
      this.#settle(s);
      s.reject(new ChannelClosedError("the channel was closed before this value was accepted"));
    }
  }

  /** Yields values until the channel is closed and drained. Breaking out does not close the channel. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let value: T;
      try {
        value = await this.receive();
      } catch (error) {
        if (error instanceof ChannelClosedError) return;
        throw error;
      }
      yield value;
    }
  }

  #push(value: T): void {
    this.#ring[(this.#start + this.#count) % this.capacity] = value;
    this.#count++;
  }

  #shift(): T {
    const value = this.#ring[this.#start] as T;
    this.#ring[this.#start] = undefined; // let the value be collected once delivered
    this.#start = (this.#start + 1) % this.capacity;
    this.#count--;
    return value;
  }

  #wait<P>(line: Waiter<P>[], payload: P, signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<P> = { payload, resolve, reject, signal };
      if (signal) {
        // Leaving the line is what makes cancellation safe: a receiver that is still in it
        // would swallow the next value, a sender would deliver a value it withdrew.
        waiter.onAbort = () => {
          line.splice(line.indexOf(waiter), 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      line.push(waiter);
    });
  }

  /** Detaches a served waiter from its signal, so a long-lived signal does not collect listeners. */
  #settle(waiter: Waiter<unknown>): void {
    if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
  }
}
