// Kata: redis-gcra
//
// Three app instances, one limit. An in-memory bucket per instance would triple the limit, so
// the state lives in Redis, and then two instances can read the same state at once and both
// allow. The cure is to decide inside Redis, in one Lua script: read, compute, write, atomic.
//
// Use GCRA (the Generic Cell Rate Algorithm): per key one number, the theoretical arrival
// time (TAT). With T = 1000 / ratePerSecond ms and a tolerance of burst × T, a request of
// cost c at time now gives newTat = max(TAT, now) + c × T, and it conforms when
// newTat − now ≤ burst × T. It behaves exactly like a token bucket of capacity `burst`.
// - The state of `key` is the one Redis key `prefix + key` ("gcra:alice" by default).
// - consume(key) reads the time from Redis (TIME) inside the script, so app hosts whose
//   clocks disagree cannot skew the limit; consumeAt(key, nowMs) passes the time in, for tests.
// - Every write sets a TTL (PX) equal to newTat − now: when it expires, the key is a full
//   bucket again. A refused request writes nothing (but see the step back below).
//   consumeAt's clock is the caller's, not Redis's, so a TTL computed on it would run out in
//   real time before the caller's clock reaches the TAT: keys written by consumeAt live at
//   least a minute.
// - TIME is a wall clock and can step back. A key never owes more than its whole burst
//   (TAT − now ≤ burst × T): cut a larger debt back, and store that, or a step back would lock
//   every key in debt out for the length of the step.
// - remaining is the whole requests left (floor); retryAfterMs the smallest whole number of ms
//   after which the same request conforms.
// - A RangeError's message names what is at fault: burst, ratePerSecond, cost or nowMs (the
//   tests match the name in any case, with or without spaces between its words).
// - Send EVALSHA (40 bytes) rather than the whole script; on a NOSCRIPT error (after a
//   restart, failover or SCRIPT FLUSH) fall back to EVAL. One command per decision. Any other
//   error (WRONGTYPE, when the key holds something that is not yours) rejects as Redis sent
//   it, without a second command.
// - Lua numbers come back to Redis as truncated integers: return whole numbers.
//
// Tests: tests/redis-gcra.test.ts (npm run check week5 redis-gcra). Needs Redis.
// Keep the exported names and signatures: the tests import them.

import type { Redis } from "ioredis";
import { NotImplementedError } from "#kata";
import type { RateLimitDecision } from "./decision";

export interface GcraOptions {
  /** Requests allowed at once from an idle key (the bucket's capacity). */
  burst: number;
  /** Sustained rate: one request's worth of quota comes back every 1000 / ratePerSecond ms. */
  ratePerSecond: number;
  /** Namespace of this limiter's keys inside Redis. Default "gcra:". */
  prefix?: string;
}

// TODO: write the script. KEYS[1] is the key; pass the interval, burst, cost and the time
// (or nothing, meaning "read TIME") in ARGV. Return {allowed, remaining, retryAfterMs, resetAfterMs}.
const GCRA_LUA = `
return redis.error_reply("not implemented")
`;

/** A GCRA rate limiter in Redis: exact across any number of app instances sharing the server. */
export class RedisGcraLimiter {
  constructor(redis: Redis, options: GcraOptions) {
    // TODO: validate burst and ratePerSecond (positive, finite: RangeError), keep the client.
    void GCRA_LUA;
    throw new NotImplementedError("redis-gcra");
  }

  /** Decides one request for `key` on Redis's clock. A cost that is not positive and finite rejects with RangeError. */
  consume(key: string, cost = 1): Promise<RateLimitDecision> {
    // TODO: EVALSHA the script with no time argument; fall back to EVAL on NOSCRIPT.
    throw new NotImplementedError("redis-gcra");
  }

  /** Decides one request for `key` at an explicit time (ms, finite: RangeError otherwise): for deterministic tests only. */
  consumeAt(key: string, nowMs: number, cost = 1): Promise<RateLimitDecision> {
    // TODO: same script, with nowMs as the time.
    throw new NotImplementedError("redis-gcra");
  }
}
