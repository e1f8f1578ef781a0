import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Request, RequestHandler, Response } from "express";
import type { Bulkhead } from "./bulkhead";
import { BulkheadFullError, QueueTimeoutError } from "./errors";

export interface LoadSheddingOptions {
  /** Every request that is not exempt runs inside it, holding its slot until the response ends. */
  readonly bulkhead: Bulkhead;
  /** The event loop's current delay in ms (eventLoopMonitor().delayMs). Default: not checked. */
  readonly eventLoopDelayMs?: () => number;
  /** Shed while the delay is above this. Default 100. */
  readonly maxEventLoopDelayMs?: number;
  /** The Retry-After sent with a 503, in whole seconds. Default 1. */
  readonly retryAfterSeconds?: number;
  /** Requests never shed and never queued. Default: GET or HEAD of /health, /healthz, /ready, /live. */
  readonly isExempt?: (req: Request) => boolean;
}

const HEALTH_PATHS = new Set(["/health", "/healthz", "/ready", "/live"]);

/** Health and readiness probes: shedding them makes an orchestrator kill a busy but healthy instance. */
export function isHealthCheck(req: Request): boolean {
  return (req.method === "GET" || req.method === "HEAD") && HEALTH_PATHS.has(req.path);
}

/** Every refusal happens before the request reached its handler, so nothing was sent yet. */
function shed(res: Response, retryAfterSeconds: number): void {
  res.set("Retry-After", String(retryAfterSeconds)).sendStatus(503);
}

/**
 * Express middleware that refuses work the service cannot do in time: a 503 with Retry-After
 * when the bulkhead is full or its queue wait runs out, or when the event loop is already
 * late. Refusing early and cheaply keeps the accepted requests fast.
 */
export function loadShedding(options: LoadSheddingOptions): RequestHandler {
  const maxDelay = options.maxEventLoopDelayMs ?? 100;
  const retryAfter = options.retryAfterSeconds ?? 1;
  if (!Number.isInteger(retryAfter) || retryAfter < 1) {
    throw new RangeError(`retryAfterSeconds must be a whole number >= 1 (got ${retryAfter})`);
  }
  const isExempt = options.isExempt ?? isHealthCheck;

  return (req, res, next) => {
    if (isExempt(req)) return next();
    if (options.eventLoopDelayMs && options.eventLoopDelayMs() > maxDelay) return shed(res, retryAfter);
    // A client that gives up while waiting must free its place in the queue. A response
    // closes once it is sent, too: the bulkhead ignores an abort once the task has started.
    const abandoned = new AbortController();
    res.once("close", () => abandoned.abort());
    options.bulkhead
      .run(
        () =>
          new Promise<void>((resolve) => {
            // 'close' has been emitted already when the client left before this point.
            if (res.writableEnded || res.destroyed) return resolve();
            // Emitted once the response is sent or the connection dropped: the slot is free then.
            res.once("close", resolve);
            next();
          }),
        { signal: abandoned.signal },
      )
      .catch((error: unknown) => {
        if (error instanceof BulkheadFullError || error instanceof QueueTimeoutError) shed(res, retryAfter);
        // Any other refusal but our own abort (the client is gone, nobody to answer) is an error.
        else if (!abandoned.signal.aborted) next(error);
      });
  };
}

export interface EventLoopMonitor {
  /** The worst event-loop delay seen in the last windowMs, in ms. */
  delayMs(): number;
  /** Stops sampling (its timer and histogram). */
  close(): void;
}

export interface EventLoopMonitorOptions {
  /** How often to sample. Default 20. */
  readonly intervalMs?: number;
  /** How long a delay is remembered: shedding stops only once the loop has been calm this long. Default 1 000. */
  readonly windowMs?: number;
}

/** Samples the event loop's delay with perf_hooks and remembers the worst of the last window. */
export function eventLoopMonitor(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const intervalMs = options.intervalMs ?? 20;
  const windowMs = options.windowMs ?? 1_000;
  if (!(intervalMs > 0) || !(windowMs >= intervalMs)) {
    throw new RangeError("intervalMs must be positive and windowMs at least intervalMs");
  }
  // Its default resolution (10 ms) catches a block that ends between two ticks; a longer one
  // also shows in how late the tick is, even if the histogram's own timer has not run yet.
  const histogram = monitorEventLoopDelay();
  histogram.enable();
  const samples = new Array<number>(Math.ceil(windowMs / intervalMs)).fill(0);
  let next = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    samples[next] = Math.max(histogram.max / 1e6, now - last - intervalMs);
    next = (next + 1) % samples.length;
    last = now;
    histogram.reset();
  }, intervalMs);
  // Monitoring alone must never keep a process alive.
  timer.unref();
  return {
    delayMs: () => Math.max(...samples),
    close: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
