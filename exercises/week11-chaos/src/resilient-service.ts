// Kata: resilient-service
//
// A product catalog: reads are most of the traffic, Postgres holds the truth and Redis a
// cache. Your job is to keep it within its objectives while either of them misbehaves, using
// the pieces of this week: timeouts on everything, retries within a budget (retry-budget.ts),
// a circuit breaker in front of each dependency (circuit-breaker.ts), and stale copies.
//
// Build ResilientService (time and timers from the injected clock):
// - getProduct(id): a cached copy younger than freshForMs answers with source "cache".
//   Otherwise read Postgres ("database") and put the row in the cache. If Postgres fails
//   (timeout, reset, open breaker, retries exhausted), answer the cached copy, however old,
//   with source "stale"; with no copy, reject with ServiceUnavailableError. An unknown id
//   rejects with ProductNotFoundError: never retried, never counted as a Postgres failure.
// - Every Postgres attempt, waiting for a pooled connection included, gives up after
//   dbTimeoutMs; every Redis command after cacheTimeoutMs. Redis failing only means the cache
//   is skipped: reads go to Postgres, as fast as they can.
// - Postgres operations retry (maxAttempts) within a RetryBudget, each attempt through a
//   breaker; an open breaker is not retried.
// - updateProduct(id, changes) resolves only once Postgres committed the write (acknowledged)
//   and rejects with ServiceUnavailableError when it could not. No acknowledged write may be
//   lost, and no older write (say, a timed-out attempt that reaches Postgres late) may
//   overwrite a newer one: give each write a version higher than every earlier one, apply it
//   only over older versions, and make a retry of it harmless.
// - The cache is filled with a Lua script that keeps a copy only if it is not older than the
//   one cached (a slow read must not overwrite a newer write). Send it with EVALSHA and fall
//   back to EVAL on NOSCRIPT: a restarted Redis has lost its script cache.
// - close() ends the Postgres pool; the Redis client belongs to the caller.
//
// Tests: tests/resilient-service.test.ts puts Postgres and Redis behind YOUR fault proxy and
// runs a chaos experiment (npm run check week11 resilient-service). Do fault-proxy and
// circuit-breaker first. Keep the exported names and signatures: the tests import them.

import type { Redis } from "ioredis";
import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { CircuitBreakerOptions } from "./breaker-types";
import type { Product } from "./catalog";
import { type Clock, systemClock } from "./clock";
import type { RetryBudgetOptions } from "./retry-budget";

export type { Product } from "./catalog";

export interface ReadResult {
  readonly product: Product;
  /** cache: fresh from Redis; database: read from Postgres; stale: an old cached copy, Postgres being unavailable. */
  readonly source: "cache" | "database" | "stale";
}

export interface ResilientServiceOptions {
  /** Postgres; the service opens (and closes) its own pool with this configuration. */
  readonly postgres: pg.PoolConfig;
  /** The cache. The caller owns the client: the service never closes it. */
  readonly redis: Redis;
  /** Key prefix of the service's cache entries. Default "catalog:". */
  readonly cachePrefix?: string;
  /** Longest wait for one Postgres attempt (connection included). Default 300. */
  readonly dbTimeoutMs?: number;
  /** Longest wait for one Redis command. Default 50. */
  readonly cacheTimeoutMs?: number;
  /** A cached copy younger than this is served without asking Postgres. Default 1 000. */
  readonly freshForMs?: number;
  /** How long a cached copy is kept to be served stale while Postgres is down. Default 60 000. */
  readonly staleForMs?: number;
  /** Attempts per Postgres operation, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Default { ratio: 0.1, minRetriesPerSecond: 1 }. */
  readonly retryBudget?: Omit<RetryBudgetOptions, "clock">;
  /** Overrides for the Postgres breaker and the Redis breaker (clock, timeout and errorFilter are the service's). */
  readonly dbBreaker?: Omit<CircuitBreakerOptions<[], unknown>, "clock" | "timeoutMs" | "errorFilter" | "fallback">;
  readonly cacheBreaker?: Omit<CircuitBreakerOptions<[], unknown>, "clock" | "timeoutMs" | "errorFilter" | "fallback">;
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** A read-heavy catalog over Postgres and Redis that holds its objectives while they misbehave. */
export class ResilientService {
  readonly #clock: Clock;

  constructor(options: ResilientServiceOptions) {
    this.#clock = options.clock ?? systemClock;
    // TODO: a pg.Pool from options.postgres (bound the wait for a connection), a breaker and a
    // retry budget for Postgres, a breaker for Redis, the cache-fill script and its SHA1.
    throw new NotImplementedError("resilient-service");
  }

  /** Reads a product: fresh cache, else Postgres, else a stale cached copy. */
  async getProduct(id: string): Promise<ReadResult> {
    // TODO
    throw new NotImplementedError("resilient-service");
  }

  /** Writes a product's name and price; resolves once Postgres has committed it. */
  async updateProduct(id: string, changes: { name: string; priceCents: number }): Promise<Product> {
    // TODO: a version for this write; a conditional UPDATE that a retry cannot apply twice
    // and an older write cannot apply over a newer one; then refresh the cache.
    throw new NotImplementedError("resilient-service");
  }

  /** Ends the Postgres pool. The Redis client belongs to the caller. */
  async close(): Promise<void> {
    // TODO
    throw new NotImplementedError("resilient-service");
  }
}
