import { AsyncLocalStorage } from "node:async_hooks";
import { randomFillSync } from "node:crypto";
import { type Clock, systemClock } from "./clock";
import {
  type Carrier,
  extractContext,
  FLAG_RANDOM,
  FLAG_SAMPLED,
  formatTraceparent,
  formatTracestate,
  type TraceState,
  updateTracestate,
} from "./trace-context";

/** What identifies a span to its children and to the next service. */
export interface SpanContext {
  traceId: string;
  spanId: string;
  flags: number;
  tracestate: TraceState;
  /** True for a parent that arrived in headers rather than a span of this process. */
  remote: boolean;
}

export type AttributeValue = string | number | boolean;

/** A span once it ended: what an exporter would send. */
export interface FinishedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  startMs: number;
  endMs: number;
  status: "ok" | "error";
  attributes: Readonly<Record<string, AttributeValue>>;
}

export interface TracerOptions {
  /** Span start and end times. */
  clock?: Clock;
  /** The sampled flag of traces this tracer starts. Default true. */
  sampled?: boolean;
  /** Our tracestate key: when set, every injection moves `key=<span id>` to the left. */
  tracestateKey?: string;
  /** Called once per span, when it ends. */
  onEnd?: (span: FinishedSpan) => void;
}

export interface StartSpanOptions {
  /** The parent: a span context (an extracted remote one, say), or null for a new trace. Default: the active span. */
  parent?: SpanContext | null;
}

/** Flags a child inherits: sampled and random. Other bits are undefined, and Level 1 says to send them as 0. */
const PROPAGATED_FLAGS = FLAG_SAMPLED | FLAG_RANDOM;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** Random lowercase hex of `bytes` bytes, never all zeros (an invalid id). */
function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    let hex = "";
    let zero = true;
    for (let i = 0; i < bytes; i++) {
      const byte = pool[poolOffset + i]!;
      if (byte !== 0) zero = false;
      hex += HEX[byte]!;
    }
    poolOffset += bytes;
    if (!zero) return hex;
  }
}

/** One operation of a trace. End it exactly once (startActiveSpan does it for you). */
export class Span {
  readonly startMs: number;
  readonly #clock: Clock;
  readonly #onEnd: ((span: FinishedSpan) => void) | undefined;
  readonly #attributes: Record<string, AttributeValue> = {};
  #ended = false;

  constructor(
    readonly name: string,
    readonly context: SpanContext,
    readonly parentSpanId: string | undefined,
    clock: Clock,
    onEnd?: (span: FinishedSpan) => void,
  ) {
    this.#clock = clock;
    this.#onEnd = onEnd;
    this.startMs = clock.now();
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.#attributes[key] = value;
    return this;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the span; a second call does nothing. */
  end(status: "ok" | "error" = "ok"): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd?.({
      name: this.name,
      traceId: this.context.traceId,
      spanId: this.context.spanId,
      parentSpanId: this.parentSpanId,
      startMs: this.startMs,
      endMs: this.#clock.now(),
      status,
      attributes: { ...this.#attributes },
    });
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}

/**
 * Spans carried through AsyncLocalStorage: the active span follows awaits, timers and promise
 * callbacks without being passed around, and leaves with the function that set it.
 */
export class Tracer {
  readonly #active = new AsyncLocalStorage<Span>();
  readonly #clock: Clock;
  readonly #sampled: boolean;
  readonly #tracestateKey: string | undefined;
  readonly #onEnd: ((span: FinishedSpan) => void) | undefined;

  constructor(options: TracerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#sampled = options.sampled ?? true;
    this.#tracestateKey = options.tracestateKey;
    this.#onEnd = options.onEnd;
    // Fail at construction, not on the first request, for a key the grammar refuses.
    if (this.#tracestateKey !== undefined) updateTracestate([], this.#tracestateKey, "0");
  }

  /** A new span, child of `options.parent` (default: the active span), not made active. */
  startSpan(name: string, options: StartSpanOptions = {}): Span {
    const parent = options.parent === undefined ? this.#active.getStore()?.context : (options.parent ?? undefined);
    const context: SpanContext = parent
      ? {
          traceId: parent.traceId,
          spanId: randomHex(8),
          flags: parent.flags & PROPAGATED_FLAGS,
          tracestate: parent.tracestate,
          remote: false,
        }
      : {
          traceId: randomHex(16),
          spanId: randomHex(8),
          flags: (this.#sampled ? FLAG_SAMPLED : 0) | FLAG_RANDOM,
          tracestate: [],
          remote: false,
        };
    return new Span(name, context, parent?.spanId, this.#clock, this.#onEnd);
  }

  /**
   * Runs `fn` with a new span active and ends the span when `fn` returns or, for a promise,
   * settles; a throw or a rejection ends it with status "error" and is passed on.
   */
  startActiveSpan<T>(name: string, fn: (span: Span) => T, options: StartSpanOptions = {}): T {
    const span = this.startSpan(name, options);
    return this.withSpan(span, () => {
      let result: T;
      try {
        result = fn(span);
      } catch (error) {
        span.end("error");
        throw error;
      }
      if (!isPromiseLike(result)) {
        span.end();
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          span.end("error");
          throw error;
        },
      ) as T;
    });
  }

  /** Runs `fn` with `span` active; the caller's own context is back when it returns. */
  withSpan<T>(span: Span, fn: () => T): T {
    return this.#active.run(span, fn);
  }

  /** The span of the code running now, if any. */
  activeSpan(): Span | undefined {
    return this.#active.getStore();
  }

  /** The remote parent in an incoming request's headers, or undefined to start a new trace. */
  extract(headers: Carrier): SpanContext | undefined {
    const context = extractContext(headers);
    if (context === undefined) return undefined;
    const { traceparent, tracestate } = context;
    return {
      traceId: traceparent.traceId,
      spanId: traceparent.parentId,
      flags: traceparent.flags,
      tracestate,
      remote: true,
    };
  }

  /** Writes traceparent (and tracestate) for the active span into outgoing headers. */
  inject(headers: Record<string, string> = {}): Record<string, string> {
    const span = this.#active.getStore();
    if (span === undefined) return headers;
    const { traceId, spanId, flags } = span.context;
    headers.traceparent = formatTraceparent({ traceId, parentId: spanId, flags: flags & PROPAGATED_FLAGS });
    let state = span.context.tracestate;
    if (this.#tracestateKey !== undefined) state = updateTracestate(state, this.#tracestateKey, spanId);
    if (state.length > 0) headers.tracestate = formatTracestate(state);
    return headers;
  }

  /**
   * Binds `fn` to the span active now. An event listener otherwise runs in the context of
   * whoever emits the event (a socket's, a pool's), not of the code that registered it.
   */
  bind<F extends (...args: never[]) => unknown>(fn: F): F {
    const span = this.#active.getStore();
    const active = this.#active;
    return function (this: unknown, ...args: Parameters<F>) {
      return active.run(span as Span, () => fn.apply(this, args));
    } as F;
  }
}
