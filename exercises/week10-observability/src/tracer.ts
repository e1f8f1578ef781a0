// Kata: trace-context
//
// A span is one operation of a trace: it has the trace's id, its own span id and its parent's.
// Passing the current span to every function by hand does not survive a real code base, so the
// tracer keeps it in AsyncLocalStorage: the active span follows awaits, timers and promise
// callbacks, and each concurrent request keeps its own. Build the Tracer:
// - startSpan(name, { parent }): a child of `parent` (default: the active span; null: a new
//   trace). A child keeps the trace-id and the tracestate, gets a fresh random span id, and
//   inherits the sampled and random flags only (other bits are undefined: send them as 0).
//   A new trace gets random ids (never all zeros), the sampled flag from `sampled` (default
//   true) and the random flag (Level 2: you did generate the trace-id randomly).
// - startActiveSpan(name, fn, options): runs fn with the new span active and ends it when fn
//   returns or its promise settles (status "error" on a throw or rejection, which is passed on).
//   The caller's own active span is back once it returns: no leaking into the caller.
// - withSpan, activeSpan: the same context, by hand.
// - extract(headers): the remote parent in an incoming request (extractContext from
//   ./trace-context), or undefined to start a new trace.
// - inject(headers): traceparent for the active span (its span id as parent-id) and, if any,
//   tracestate; with `tracestateKey`, first move "<key>=<span id>" to the left. Nothing is
//   written outside a span.
// - bind(fn): fn runs in the span active when bind was called. An event listener otherwise
//   runs in the context of whoever emits the event.
// - Every span ends exactly once; `onEnd` gets it with start and end times from the clock.
//
// Tests: tests/tracer.test.ts (npm run check week10 trace-context).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";
import type { Carrier, TraceState } from "./trace-context";

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

/** One operation of a trace. End it exactly once (startActiveSpan does it for you). */
export class Span {
  readonly startMs: number;

  constructor(
    readonly name: string,
    readonly context: SpanContext,
    readonly parentSpanId: string | undefined,
    clock: Clock,
    onEnd?: (span: FinishedSpan) => void,
  ) {
    // TODO: remember the clock and onEnd; the start time is now.
    throw new NotImplementedError("trace-context");
  }

  setAttribute(key: string, value: AttributeValue): this {
    // TODO
    throw new NotImplementedError("trace-context");
  }

  get ended(): boolean {
    // TODO
    throw new NotImplementedError("trace-context");
  }

  /** Ends the span; a second call does nothing. */
  end(status: "ok" | "error" = "ok"): void {
    // TODO: hand a FinishedSpan to onEnd, once.
    throw new NotImplementedError("trace-context");
  }
}

/** Spans carried through AsyncLocalStorage. */
export class Tracer {
  constructor(options: TracerOptions = {}) {
    // TODO: one AsyncLocalStorage<Span> per tracer (node:async_hooks).
    throw new NotImplementedError("trace-context");
  }

  /** A new span, child of `options.parent` (default: the active span), not made active. */
  startSpan(name: string, options: StartSpanOptions = {}): Span {
    // TODO: random ids from node:crypto; never all zeros.
    throw new NotImplementedError("trace-context");
  }

  /** Runs `fn` with a new span active and ends the span when `fn` returns or its promise settles. */
  startActiveSpan<T>(name: string, fn: (span: Span) => T, options: StartSpanOptions = {}): T {
    // TODO: storage.run(span, ...), never enterWith (it leaks into the caller).
    throw new NotImplementedError("trace-context");
  }

  /** Runs `fn` with `span` active; the caller's own context is back when it returns. */
  withSpan<T>(span: Span, fn: () => T): T {
    // TODO
    throw new NotImplementedError("trace-context");
  }

  /** The span of the code running now, if any. */
  activeSpan(): Span | undefined {
    // TODO
    throw new NotImplementedError("trace-context");
  }

  /** The remote parent in an incoming request's headers, or undefined to start a new trace. */
  extract(headers: Carrier): SpanContext | undefined {
    // TODO
    throw new NotImplementedError("trace-context");
  }

  /** Writes traceparent (and tracestate) for the active span into outgoing headers. */
  inject(headers: Record<string, string> = {}): Record<string, string> {
    // TODO
    throw new NotImplementedError("trace-context");
  }

  /** Binds `fn` to the span active now. */
  bind<F extends (...args: never[]) => unknown>(fn: F): F {
    // TODO
    throw new NotImplementedError("trace-context");
  }
}
