import type { Redis } from "ioredis";
import { type Clock, wallClock } from "./clock";

/** What the XFetch decision looks at. */
export interface EarlyRecomputeInput {
  /** The current time, on the same clock as `expiresAt`. */
  now: number;
  /** When the cached value expires. */
  expiresAt: number;
  /** How long the last recompute took, in ms. */
  delta: number;
  /** How eager to be: 1 is the paper's optimum; above 1 refreshes earlier, 0 never early. */
  beta: number;
  /** A uniform source in [0, 1). */
  random: () => number;
}

/**
 * XFetch (Vattani, Chierichetti and Lowenstein, VLDB 2015): recompute before expiry with a
 * probability that grows as expiry nears and with the cost of the recompute. -log(random())
 * is an exponential variable with mean 1, so the expected lead is delta × beta.
 */
export function shouldRecomputeEarly({ now, expiresAt, delta, beta, random }: EarlyRecomputeInput): boolean {
  return now - delta * beta * Math.log(random()) >= expiresAt;
}

/** How an XFetch cache times its values and makes its decisions. */
export interface XFetchOptions {
  redis: Redis;
  /** Time to live of a value, in ms (a positive integer). */
  ttl: number;
  /** Default 1. */
  beta?: number;
  /** Must agree across instances, since expiries are stored in Redis: a wall clock. */
  clock?: Clock;
  /** Default Math.random. */
  random?: () => number;
}

/** Where a value came from: a plain hit, a hit recomputed early, or a miss. */
export type XFetchSource = "hit" | "early-refresh" | "miss";

export interface XFetchResult<T> {
  value: T;
  source: XFetchSource;
}

interface Envelope<T> {
  value: T;
  delta: number;
  expiresAt: number;
}

/**
 * A read-through cache that refreshes hot keys before they expire, so readers almost never
 * meet an expired entry together. Value, delta and expiry live in one string: a hit is one GET.
 */
export class XFetchCache {
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #beta: number;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(options: XFetchOptions) {
    const { redis, ttl, beta = 1, clock = wallClock, random = Math.random } = options;
    if (!Number.isSafeInteger(ttl) || ttl <= 0)
      throw new RangeError(`ttl must be a positive integer of ms, got ${ttl}`);
    if (!(beta >= 0) || !Number.isFinite(beta)) throw new RangeError(`beta must be a finite number >= 0, got ${beta}`);
    this.#redis = redis;
    this.#ttl = ttl;
    this.#beta = beta;
    this.#clock = clock;
    this.#random = random;
  }

  /** The value of `key`: cached, recomputed early by this caller, or loaded on a miss. */
  async get<T>(key: string, loader: () => Promise<T>): Promise<XFetchResult<T>> {
    const raw = await this.#redis.get(key);
    const entry = raw === null ? undefined : parse<T>(raw);
    const now = this.#clock.now();
    if (entry === undefined || now >= entry.expiresAt) {
      return { value: await this.#recompute(key, loader), source: "miss" };
    }
    if (
      shouldRecomputeEarly({
        now,
        expiresAt: entry.expiresAt,
        delta: entry.delta,
        beta: this.#beta,
        random: this.#random,
      })
    ) {
      return { value: await this.#recompute(key, loader), source: "early-refresh" };
    }
    return { value: entry.value, source: "hit" };
  }

  async #recompute<T>(key: string, loader: () => Promise<T>): Promise<T> {
    const started = this.#clock.now();
    const value = await loader();
    const finished = this.#clock.now();
    const envelope: Envelope<T> = { value, delta: Math.max(0, finished - started), expiresAt: finished + this.#ttl };
    // The logical expiry decides; PX only lets Redis reclaim the key when nobody reads it.
    await this.#redis.set(key, JSON.stringify(envelope), "PX", this.#ttl);
    return value;
  }
}

function parse<T>(raw: string): Envelope<T> | undefined {
  let parsed: Partial<Envelope<T>> | null;
  try {
    parsed = JSON.parse(raw) as Partial<Envelope<T>> | null;
  } catch {
    return undefined;
  }
  return typeof parsed?.delta === "number" && typeof parsed.expiresAt === "number"
    ? (parsed as Envelope<T>)
    : undefined;
}
