import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A value a script receives in ARGV. */
export type ScriptArg = string | number;

/**
 * A Lua script run by its SHA1 (EVALSHA), so the body crosses the network once, not on
 * every call. Redis forgets scripts on SCRIPT FLUSH, on a restart and on a failover to a
 * replica that never saw them; the NOSCRIPT error that follows is answered by sending the
 * body once with EVAL, which runs it and caches it again.
 */
export class RedisScript {
  /** The SHA1 of the source, in hex: the name Redis gives the script. */
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source, "utf8").digest("hex");
  }

  /** Runs the script with `keys` as KEYS (ioredis adds its keyPrefix to them) and `args` as ARGV. */
  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // Only a missing script is ours to fix. Any other error came from running the script
      // (or from Redis); sending the body again would run a failing script twice.
      if (!isNoScript(error)) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}
