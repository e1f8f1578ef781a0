import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import pg from "pg";
import type { CircuitBreakerOptions } from "./breaker-types";
import type { Product } from "./catalog";
import { CircuitBreaker } from "./circuit-breaker";
import { type Clock, systemClock } from "./clock";
import { BreakerOpenError, ProductNotFoundError, ServiceUnavailableError, TimeoutError } from "./errors";
import { retry, RetryBudget, type RetryBudgetOptions } from "./retry-budget";

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

// Stores a copy only if it is at least as new as the one cached: a slow read that fetched an
// old row can never overwrite what a later write put there. One script, so check and set are
// one atomic step.
const FILL_SCRIPT = `
local cached = redis.call('HGET', KEYS[1], 'version')
if cached and tonumber(cached) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'product', ARGV[2], 'cachedAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;
const FILL_SHA = createHash("sha1").update(FILL_SCRIPT).digest("hex");

interface Row {
  id: string;
  name: string;
  price_cents: number;
  version: string;
}

const ignore = () => {};

const toProduct = (row: Row): Product => ({
  id: row.id,
  name: row.name,
  priceCents: row.price_cents,
  version: Number(row.version),
});

/** Races `work` against a timer of the clock; rejects with TimeoutError when the timer wins. */
function within<T>(clock: Clock, ms: number, work: Promise<T>, onTimeout: () => void = () => {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(ms, () => {
      onTimeout();
      reject(new TimeoutError(ms));
    });
    work.then(
      (value) => (cancel(), resolve(value)),
      (error: unknown) => (cancel(), reject(error)),
    );
  });
}

/**
 * A read-heavy catalog over Postgres with a Redis cache that stays within its objectives
 * while either misbehaves: every call has a timeout, Postgres calls retry within a budget
 * behind a breaker, Redis failures only bypass the cache, and stale copies answer reads
 * while Postgres is down.
 */
export class ResilientService {
  readonly #pool: pg.Pool;
  readonly #redis: Redis;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #prefix: string;
  readonly #dbTimeoutMs: number;
  readonly #cacheTimeoutMs: number;
  readonly #freshForMs: number;
  readonly #staleForMs: number;
  readonly #maxAttempts: number;
  readonly #budget: RetryBudget;
  readonly #db: CircuitBreaker<[work: (client: pg.PoolClient) => Promise<unknown>], unknown>;
  readonly #cache: CircuitBreaker<[command: (redis: Redis) => Promise<unknown>], unknown>;
  #lastVersion = 0;

  constructor(options: ResilientServiceOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#redis = options.redis;
    this.#prefix = options.cachePrefix ?? "catalog:";
    this.#dbTimeoutMs = options.dbTimeoutMs ?? 300;
    this.#cacheTimeoutMs = options.cacheTimeoutMs ?? 50;
    this.#freshForMs = options.freshForMs ?? 1_000;
    this.#staleForMs = options.staleForMs ?? 60_000;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 1, ...options.retryBudget, clock: this.#clock });
    // Waiting for a pooled connection is part of an attempt's time: bound it by the same timeout.
    this.#pool = new pg.Pool({
      max: 10,
      connectionTimeoutMillis: this.#dbTimeoutMs,
      idleTimeoutMillis: 5_000,
      ...options.postgres,
    });
    this.#pool.on("error", () => {}); // an idle connection reset by the network: the pool drops it
    const notFound = (error: unknown) => error instanceof ProductNotFoundError;
    this.#db = new CircuitBreaker((work) => this.#withClient(work), {
      volumeThreshold: 5,
      resetTimeoutMs: 1_000,
      rollingWindowMs: 5_000,
      ...options.dbBreaker,
      // The breaker's own timeout (its default) is only a backstop: #withClient enforces
      // dbTimeoutMs itself, and releases the connection when it does.
      errorFilter: notFound,
      clock: this.#clock,
    });
    this.#cache = new CircuitBreaker((command) => within(this.#clock, this.#cacheTimeoutMs, command(this.#redis)), {
      volumeThreshold: 3,
      resetTimeoutMs: 500,
      rollingWindowMs: 5_000,
      ...options.cacheBreaker,
      clock: this.#clock,
    });
  }

  /** Reads a product: fresh cache, else Postgres, else a stale cached copy. ProductNotFoundError when there is none. */
  async getProduct(id: string): Promise<ReadResult> {
    const cached = await this.#cached(id);
    if (cached && this.#clock.now() - cached.cachedAt < this.#freshForMs) {
      return { product: cached.product, source: "cache" };
    }
    let row: Row | undefined;
    try {
      row = await this.#dbCall(async (client) => {
        const { rows } = await client.query<Row>("SELECT id, name, price_cents, version FROM products WHERE id = $1", [
          id,
        ]);
        if (rows.length === 0) throw new ProductNotFoundError(id);
        return rows[0]!;
      });
    } catch (error) {
      if (error instanceof ProductNotFoundError) throw error;
      if (cached) return { product: cached.product, source: "stale" };
      throw new ServiceUnavailableError(`product ${id}: Postgres is unavailable and nothing is cached`, {
        cause: error,
      });
    }
    const product = toProduct(row);
    await this.#fill(product);
    return { product, source: "database" };
  }

  /**
   * Writes a product's name and price. Resolves once Postgres has committed it (an
   * acknowledged write); rejects with ServiceUnavailableError when it could not be done.
   * Retrying is safe: the write carries its version, applies only over older versions, and
   * an attempt that finds its own version already there has already succeeded.
   */
  async updateProduct(id: string, changes: { name: string; priceCents: number }): Promise<Product> {
    const version = this.#nextVersion();
    let product: Product;
    try {
      product = await this.#dbCall(async (client) => {
        const updated = await client.query<Row>(
          `UPDATE products SET name = $2, price_cents = $3, version = $4
           WHERE id = $1 AND version < $4 RETURNING id, name, price_cents, version`,
          [id, changes.name, changes.priceCents, version],
        );
        if (updated.rows.length > 0) return toProduct(updated.rows[0]!);
        const current = await client.query<Row>("SELECT id, name, price_cents, version FROM products WHERE id = $1", [
          id,
        ]);
        if (current.rows.length === 0) throw new ProductNotFoundError(id);
        // Our version or a newer one is there: an earlier attempt of ours committed (its answer
        // was lost), or a later write superseded this one. Either way it is done, and what
        // Postgres holds is what the caller and the cache should see.
        return toProduct(current.rows[0]!);
      });
    } catch (error) {
      if (error instanceof ProductNotFoundError) throw error;
      throw new ServiceUnavailableError(`product ${id}: the write could not be committed`, { cause: error });
    }
    await this.#fill(product);
    return product;
  }

  /** Ends the Postgres pool. The Redis client belongs to the caller. */
  async close(): Promise<void> {
    await this.#pool.end();
  }

  /** Versions from the clock, strictly increasing within this process even if the clock is not. */
  #nextVersion(): number {
    this.#lastVersion = Math.max(this.#lastVersion + 1, Math.floor(this.#clock.now()) * 1000);
    return this.#lastVersion;
  }

  #dbCall<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return retry(() => this.#db.fire(work) as Promise<T>, {
      maxAttempts: this.#maxAttempts,
      baseDelayMs: 20,
      maxDelayMs: 200,
      budget: this.#budget,
      clock: this.#clock,
      random: this.#random,
      isRetryable: (error) => !(error instanceof BreakerOpenError) && !(error instanceof ProductNotFoundError),
    });
  }

  /** One Postgres attempt on one pooled connection, connecting included, given up after dbTimeoutMs. */
  async #withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    let timedOut = false;
    let released = false;
    // A connection whose query timed out is in an unknown state (the answer may still come):
    // releasing it with an error makes the pool close it instead of lending it again.
    const release = () => {
      if (client === undefined || released) return;
      released = true;
      client.off("error", ignore);
      client.release(timedOut ? new Error("query timed out") : undefined);
    };
    const attempt = this.#pool.connect().then((connected) => {
      client = connected;
      // A connection reset while checked out emits 'error' besides failing its query; the
      // pool only listens while the client is idle, and an unheard 'error' crashes the process.
      connected.on("error", ignore);
      if (timedOut) {
        release();
        throw new TimeoutError(this.#dbTimeoutMs);
      }
      return work(connected);
    });
    try {
      return await within(this.#clock, this.#dbTimeoutMs, attempt, () => {
        timedOut = true;
        release();
      });
    } finally {
      release();
    }
  }

  async #cached(id: string): Promise<{ product: Product; cachedAt: number } | undefined> {
    let entry: Record<string, string>;
    try {
      entry = (await this.#cache.fire((redis) => redis.hgetall(this.#prefix + id))) as Record<string, string>;
    } catch {
      return undefined; // Redis is down or slow: read through to Postgres
    }
    // Only the fill script writes an entry, all its fields in one HSET: none, or all of them.
    if (entry.product === undefined) return undefined;
    return { product: JSON.parse(entry.product) as Product, cachedAt: Number(entry.cachedAt) };
  }

  async #fill(product: Product): Promise<void> {
    const args = [
      this.#prefix + product.id,
      String(product.version),
      JSON.stringify(product),
      String(this.#clock.now()),
      String(this.#staleForMs),
    ];
    try {
      await this.#cache.fire(async (redis) => {
        try {
          return await redis.evalsha(FILL_SHA, 1, ...args);
        } catch (error) {
          // A restarted or flushed Redis has lost its script cache: EVAL sends (and caches) it again.
          if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
          return await redis.eval(FILL_SCRIPT, 1, ...args);
        }
      });
    } catch {
      // The cache is best effort: Postgres already has the truth.
    }
  }
}
