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

/**
 * A sink that never makes the caller wait: lines go straight to the destination while it
 * accepts them, wait in a bounded buffer while it is full, and are dropped (and counted) when
 * the buffer is full too. A stalled log shipper then costs log lines, never request latency
 * and never unbounded memory.
 */
export class BoundedSink implements LogSink {
  readonly #destination: LogDestination;
  readonly #maxBufferedBytes: number;
  readonly #maxChunkBytes: number;
  #queue: string[] = [];
  #head = 0;
  #queuedBytes = 0;
  #waitingForDrain = false;
  #broken = false;
  #written = 0;
  #dropped = 0;
  /** Chunks handed over whose callback has not come back yet. */
  #pending = 0;
  #flushed: Array<() => void> = [];

  constructor(destination: LogDestination, options: BoundedSinkOptions = {}) {
    this.#destination = destination;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.#maxChunkBytes = options.maxChunkBytes ?? 256 * 1024;
    for (const [name, value] of [
      ["maxBufferedBytes", this.#maxBufferedBytes],
      ["maxChunkBytes", this.#maxChunkBytes],
    ] as const) {
      if (!Number.isInteger(value) || value < 0)
        throw new RangeError(`${name} must be a non-negative integer (got ${value})`);
    }
    // An 'error' nobody listens to kills the process; a broken destination only costs lines.
    destination.on?.("error", () => this.#break());
  }

  /** Takes a line; never blocks, never throws. */
  write(line: string): void {
    if (this.#broken) {
      this.#dropped++;
      return;
    }
    // Lines wait in the queue only while the destination is full, so "not waiting" means "empty".
    if (!this.#waitingForDrain) {
      this.#hand(line, 1);
      return;
    }
    const bytes = Buffer.byteLength(line);
    if (this.#queuedBytes + bytes > this.#maxBufferedBytes) {
      this.#dropped++;
      return;
    }
    this.#queue.push(line);
    this.#queuedBytes += bytes;
  }

  stats(): SinkStats {
    return {
      written: this.#written,
      buffered: this.#queue.length - this.#head,
      bufferedBytes: this.#queuedBytes,
      dropped: this.#dropped,
    };
  }

  /** Resolves once every buffered line was handed over and the destination confirmed it (or failed). */
  flush(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#flushed.push(resolve));
  }

  #hand(chunk: string, lines: number): void {
    this.#written += lines;
    this.#pending++;
    let accepted: boolean;
    try {
      accepted = this.#destination.write(chunk, (error) => this.#confirmed(error, lines));
    } catch {
      this.#confirmed(new Error("write threw"), lines);
      return;
    }
    if (!accepted && !this.#broken) {
      this.#waitingForDrain = true;
      this.#destination.once("drain", () => this.#drained());
    }
  }

  #confirmed(error: Error | null | undefined, lines: number): void {
    this.#pending--;
    if (error) {
      // Handed over but lost: they count as dropped, not written.
      this.#written -= lines;
      this.#dropped += lines;
      this.#break();
    }
    this.#settle();
  }

  #drained(): void {
    this.#waitingForDrain = false;
    while (!this.#waitingForDrain && !this.#broken && this.#head < this.#queue.length) {
      let chunk = "";
      let lines = 0;
      while (
        this.#head < this.#queue.length &&
        (lines === 0 || chunk.length + this.#queue[this.#head]!.length <= this.#maxChunkBytes)
      ) {
        const line = this.#queue[this.#head++]!;
        chunk += line;
        this.#queuedBytes -= Buffer.byteLength(line);
        lines++;
      }
      this.#compact();
      this.#hand(chunk, lines);
    }
    this.#settle();
  }

  /** Drops consumed lines from the front of the queue now and then, not on every shift. */
  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #break(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#dropped += this.#queue.length - this.#head;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#settle();
  }

  #idle(): boolean {
    // A broken destination may never call back: there is nothing left to wait for.
    return this.#broken || (this.#pending === 0 && this.#queue.length === this.#head);
  }

  #settle(): void {
    if (!this.#idle()) return;
    for (const resolve of this.#flushed.splice(0)) resolve();
  }
}
