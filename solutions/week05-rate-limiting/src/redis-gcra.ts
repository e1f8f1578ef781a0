import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { RateLimitDecision } from "./decision";

export interface GcraOptions {
  /** Requests allowed at once from an idle key (the bucket's capacity). */
  burst: number;
  /** Sustained rate: one request's worth of quota comes back every 1000 / ratePerSecond ms. */
  ratePerSecond: number;
  /** Namespace of this limiter's keys inside Redis. Default "gcra:". */
  prefix?: string;
}

/**
 * GCRA keeps one number per key, the theoretical arrival time (TAT): the instant the key's
 * debt is paid off. A request costing c moves it to max(TAT, now) + c·T (T the emission
 * interval) and conforms when that is at most burst·T ahead of now. It is a token bucket
 * seen from the other side: tokens = (burst·T − (TAT − now)) / T.
 *
 * Everything happens in one script, so the read-compute-write is atomic however many app
 * instances share the server, and costs one round trip. Time is Redis's own TIME unless the
 * caller passes one (tests), so app hosts whose clocks disagree cannot skew the decision.
 * Every write carries a PX equal to TAT − now: when it expires the key is a full bucket again,
 * so expiry never forgets debt and idle keys never pile up. A stored TAT more than burst·T
 * ahead of now can only come from a clock that stepped back; it is cut back to that and stored,
 * so a step back costs a key at most its burst and never locks it out for the length of the step.
 *
 * Returns whole numbers only (Redis turns Lua numbers into integers by truncation):
 * {allowed, remaining, retryAfterMs (-1: never), resetAfterMs}.
 */
const GCRA_LUA = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local simulated = ARGV[4] ~= ""
local now
if simulated then
  now = tonumber(ARGV[4])
else
  local time = redis.call("TIME")
  now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
local slack = 1e-6
local tolerance = interval * burst

local function ttl_for(at)
  -- The key expires when its bucket is full again. A caller's simulated clock is not Redis's,
  -- so a key written on it is kept at least a minute of real time, or it could vanish, debt
  -- and all, before the simulated clock reaches its TAT. Keeping a key longer is harmless: a
  -- TAT in the past reads as a full bucket.
  local ttl = math.max(1, math.ceil(at - now))
  if simulated and ttl < 60000 then ttl = 60000 end
  return ttl
end
local function store(at)
  -- %.17g round-trips a double exactly; tostring() would keep only 14 digits.
  redis.call("SET", KEYS[1], string.format("%.17g", at), "PX", ttl_for(at))
end

local tat = tonumber(redis.call("GET", KEYS[1]) or "") or now
if tat < now then tat = now end
-- No key owes more than a whole burst. More means the clock stepped back (TIME is a wall
-- clock): the debt is cut to a whole burst and stored, or every key in debt would be locked
-- out for the length of the step.
if tat > now + tolerance then
  tat = now + tolerance
  store(tat)
end

local function whole_tokens(at)
  local tokens = (tolerance - (at - now)) / interval
  if tokens < 0 then return 0 end
  return math.floor(tokens + slack)
end
local function ceil_ms(ms)
  if ms <= 0 then return 0 end
  return math.ceil(ms - slack)
end

if cost > burst then
  return {0, whole_tokens(tat), -1, ceil_ms(tat - now)}
end

local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if allow_at - now > slack then
  local wait = ceil_ms(allow_at - now)
  if wait < 1 then wait = 1 end
  return {0, whole_tokens(tat), wait, ceil_ms(tat - now)}
end

store(new_tat)
return {1, whole_tokens(new_tat), 0, ceil_ms(new_tat - now)}
`;

const GCRA_SHA = createHash("sha1").update(GCRA_LUA).digest("hex");

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/** A GCRA rate limiter in Redis: exact across any number of app instances sharing the server. */
export class RedisGcraLimiter {
  readonly #redis: Redis;
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #prefix: string;

  constructor(redis: Redis, options: GcraOptions) {
    const { burst, ratePerSecond, prefix = "gcra:" } = options;
    if (!Number.isFinite(burst) || burst <= 0)
      throw new RangeError(`burst must be a positive, finite number (got ${burst})`);
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0)
      throw new RangeError(`ratePerSecond must be a positive, finite number (got ${ratePerSecond})`);
    this.#redis = redis;
    this.#intervalMs = 1000 / ratePerSecond;
    this.#burst = burst;
    this.#prefix = prefix;
  }

  /** Decides one request for `key` on Redis's clock. */
  consume(key: string, cost = 1): Promise<RateLimitDecision> {
    return this.#decide(key, undefined, cost);
  }

  /** Decides one request for `key` at an explicit time (ms): for deterministic tests only. */
  consumeAt(key: string, nowMs: number, cost = 1): Promise<RateLimitDecision> {
    return this.#decide(key, nowMs, cost);
  }

  async #decide(key: string, nowMs: number | undefined, cost: number): Promise<RateLimitDecision> {
    if (!Number.isFinite(cost) || cost <= 0)
      throw new RangeError(`cost must be a positive, finite number (got ${cost})`);
    if (nowMs !== undefined && !Number.isFinite(nowMs))
      throw new RangeError(`nowMs must be a finite number (got ${nowMs})`);
    // An empty ARGV[4] tells the script to read Redis's own clock.
    const now = nowMs === undefined ? "" : String(nowMs);
    const args = [String(this.#intervalMs), String(this.#burst), String(cost), now];
    const reply = (await this.#run(this.#prefix + key, args)) as [number, number, number, number];
    const [allowed, remaining, retryAfterMs, resetAfterMs] = reply;
    return {
      allowed: allowed === 1,
      remaining,
      retryAfterMs: retryAfterMs < 0 ? Infinity : retryAfterMs,
      resetAfterMs,
    };
  }

  /**
   * EVALSHA sends 40 bytes instead of the script. After a restart, a failover or SCRIPT FLUSH
   * the server no longer knows the hash (NOSCRIPT); EVAL then runs it and caches it again.
   */
  async #run(key: string, args: string[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(GCRA_SHA, 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await this.#redis.eval(GCRA_LUA, 1, key, ...args);
    }
  }
}
