/*
 * Kata lua-scripts, part 1: running Lua scripts the way production clients do.
 *
 * A Lua script runs inside Redis as one atomic step: no other command runs between its
 * first and its last line. Sending the whole body with EVAL on every call wastes bandwidth,
 * so clients send EVALSHA with the script's SHA1 instead. Redis forgets its scripts on
 * SCRIPT FLUSH, on a restart and after a failover to a replica, and then answers EVALSHA
 * with a NOSCRIPT error; the client must then send the body once (EVAL), and go on.
 *
 * Build `RedisScript`:
 * - `sha`: the SHA1 of the source, in lowercase hex, exactly as Redis computes it.
 * - `run(redis, keys, args)`: EVALSHA with `keys` as KEYS (so ioredis prefixes them like any
 *   other key) and `args` as ARGV; on NOSCRIPT, and only then, fall back to EVAL. Any other
 *   error is the script's own and reaches the caller untouched, without a second attempt.
 *
 * ioredis's `defineCommand` does this for you; write it yourself here to see how. Part 2 is
 * src/versioned-cache.ts. The tests are in tests/lua-scripts.test.ts. Keep the exported
 * names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Redis } from "ioredis";

/** A value a script receives in ARGV. */
export type ScriptArg = string | number;

/** A Lua script run by its SHA1 (EVALSHA), with a NOSCRIPT fallback to EVAL. */
export class RedisScript {
  /** The SHA1 of the source, in hex: the name Redis gives the script. */
  readonly sha: string;

  constructor(readonly source: string) {
    // TODO: compute the SHA1 (node:crypto).
    this.sha = "";
    throw new NotImplementedError("lua-scripts");
  }

  /** Runs the script with `keys` as KEYS and `args` as ARGV. */
  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<unknown> {
    // TODO: EVALSHA; on NOSCRIPT only, EVAL.
    void redis;
    void keys;
    void args;
    throw new NotImplementedError("lua-scripts");
  }
}
