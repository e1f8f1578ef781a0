// A test seam for the graceful-worker kata. Given and complete.
//
// To kill or stop a worker process "mid-job", a test must know that a job is in progress and
// keep it there as long as it likes, without sleeping. The hold gate does that from outside
// the process: after a job's effect is committed, it prints `holding <messageId>` (the id the
// consumer gave the job's message) and waits until the test pushes anything onto the Redis
// list `<key>:<messageId>`. worker-main.ts installs it as the consumer's afterCommit hook when
// HOLD_KEY is set, which it never is in production.

import { Redis } from "ioredis";

export interface HoldGate {
  /** Prints `holding <messageId>` and waits for the release (at most `maxHoldSeconds`). */
  afterCommit(messageId: string): Promise<void>;
  /** Drops the gate's own Redis connection. */
  close(): void;
}

export function createHoldGate(
  redisUrl: string,
  key: string,
  log: (line: string) => void,
  maxHoldSeconds = 30,
): HoldGate {
  // Its own connection: BLPOP blocks the connection it runs on.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on("error", () => {});
  return {
    async afterCommit(messageId) {
      log(`holding ${messageId}`);
      const released = await redis.blpop(`${key}:${messageId}`, maxHoldSeconds);
      if (released === null) throw new Error(`job ${messageId} was held for ${maxHoldSeconds} s and never released`);
    },
    close() {
      redis.disconnect();
    },
  };
}
