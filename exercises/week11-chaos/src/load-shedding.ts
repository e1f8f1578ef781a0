// Kata: bulkhead-and-shedding (the middleware)
//
// A request the service cannot answer in time is worse than one it refuses: it costs the
// same work, ties up a slot, and the client gives up anyway. Load shedding refuses early and
// cheaply, so that the requests it accepts stay fast.
// - loadShedding(options) is express middleware. A request runs inside the bulkhead and holds
//   its slot until its response has finished (or the connection closed). When the bulkhead
//   refuses it (BulkheadFullError, QueueTimeoutError), answer 503 with `Retry-After:
//   <retryAfterSeconds>` (default 1). Other errors go to next(error).
// - Before that, when eventLoopDelayMs() is above maxEventLoopDelayMs (default 100), shed at
//   once: the loop is already late, and every request accepted now will be later still.
// - Health checks are exempt from both, always: isExempt(req) (default isHealthCheck: GET or
//   HEAD of /health, /healthz, /ready, /live) goes straight to next().
// - A client that disconnects while its request waits leaves the queue (run's signal).
// - eventLoopMonitor({ intervalMs, windowMs }) measures the delay: delayMs() is the worst
//   delay seen in the last windowMs (sampled every intervalMs with perf_hooks'
//   monitorEventLoopDelay, or by how late a repeating timer fires). close() stops it.
//
// Tests: tests/load-shedding.test.ts drives the middleware past capacity with real HTTP load
// on loopback (npm run check week11 bulkhead-and-shedding).
// Keep the exported names and signatures: the tests import them.

import type { Request, RequestHandler } from "express";
import { NotImplementedError } from "#kata";
import type { Bulkhead } from "./bulkhead";

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

/** Health and readiness probes: shedding them makes an orchestrator kill a busy but healthy instance. */
export function isHealthCheck(req: Request): boolean {
  // TODO
  throw new NotImplementedError("bulkhead-and-shedding");
}

/** Express middleware that sheds load with 503 + Retry-After; health checks are exempt. */
export function loadShedding(options: LoadSheddingOptions): RequestHandler {
  // TODO: exempt first, then the event-loop check, then bulkhead.run around next() until the
  // response finishes; a refusal from the bulkhead becomes a 503 with Retry-After.
  throw new NotImplementedError("bulkhead-and-shedding");
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

/** Samples the event loop's delay and remembers the worst of the last window. */
export function eventLoopMonitor(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  // TODO: a repeating timer (unref'd) that records each interval's worst delay (how late the
  // timer fired, or perf_hooks.monitorEventLoopDelay's max) in a ring covering windowMs.
  throw new NotImplementedError("bulkhead-and-shedding");
}
