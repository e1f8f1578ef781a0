/**
 * The errors the week's resilience primitives reject with. Shared by every kata: callers
 * (and the tests) tell them apart by class or by `code`, never by message.
 */

/** A call refused without being attempted, because the circuit breaker is open (or half-open and busy). */
export class BreakerOpenError extends Error {
  readonly code = "EOPENBREAKER";
  constructor(message = "circuit breaker is open") {
    super(message);
    this.name = "BreakerOpenError";
  }
}

/** A call that ran longer than its timeout. It counts as a failure of the dependency. */
export class TimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(
    readonly timeoutMs: number,
    message = `timed out after ${timeoutMs} ms`,
  ) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** A task refused at once because every slot is busy and the bulkhead's queue is full. */
export class BulkheadFullError extends Error {
  readonly code = "EBULKHEADFULL";
  constructor(message = "bulkhead is full") {
    super(message);
    this.name = "BulkheadFullError";
  }
}

/** A task that waited in the bulkhead's queue longer than its queue timeout, and never ran. */
export class QueueTimeoutError extends Error {
  readonly code = "EQUEUETIMEOUT";
  constructor(
    readonly waitedMs: number,
    message = `waited ${waitedMs} ms in the queue`,
  ) {
    super(message);
    this.name = "QueueTimeoutError";
  }
}

/** The service could not answer: its dependency failed and no stale copy was there to serve. */
export class ServiceUnavailableError extends Error {
  readonly code = "EUNAVAILABLE";
  constructor(message = "service unavailable", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServiceUnavailableError";
  }
}

/** The product does not exist: the caller's mistake, never retried, never a failure of Postgres. */
export class ProductNotFoundError extends Error {
  readonly code = "ENOTFOUND";
  constructor(readonly id: string) {
    super(`no product ${id}`);
    this.name = "ProductNotFoundError";
  }
}
