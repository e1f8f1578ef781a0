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

function shed(res: Response, retryAfterSeconds: number, reason: string): void {
  if (res.headersSent) return;
  res
    .status(503)
    .set("Retry-After", String(retryAfterSeconds))
    .type("application/problem+json")
    .send(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503, detail: reason }));
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
    if (options.eventLoopDelayMs && options.eventLoopDelayMs() > maxDelay) {
      return shed(res, retryAfter, "the event loop is overloaded");
    }
    // A client that gives up while waiting must free its place in the queue.
    const abandoned = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abandoned.abort(new Error("client went away"));
    };
    res.once("close", onClose);
    options.bulkhead
      .run(
        () =>
          new Promise<void>((resolve) => {
            if (res.writableEnded || res.destroyed) return resolve();
            res.once("finish", resolve);
            res.once("close", resolve);
            next();
          }),
        { signal: abandoned.signal },
      )
      .catch((error: unknown) => {
        if (error instanceof BulkheadFullError) shed(res, retryAfter, "too many requests in progress");
        else if (error instanceof QueueTimeoutError) shed(res, retryAfter, "waited too long for capacity");
        else if (!abandoned.signal.aborted) next(error);
      })
      .finally(() => res.off("close", onClose));
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
  const histogram = monitorEventLoopDelay({ resolution: Math.max(1, Math.min(10, intervalMs / 2)) });
  histogram.enable();
  const samples = new Array<number>(Math.ceil(windowMs / intervalMs)).fill(0);
  let next = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    // The histogram sees a blocked loop only once it resumes; how late this tick is says so too.
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
