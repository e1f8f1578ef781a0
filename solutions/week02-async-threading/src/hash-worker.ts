// Reference solution for the worker side of the worker-pool kata: the entry file each pool
// thread runs. It hashes a buffer many times over (CPU work that would stall an event loop)
// and moves the buffer back to the caller instead of copying it.
// Stryker disable all: this file runs only inside worker threads (see worker-pool.ts).
import { createHash } from "node:crypto";
import { threadId } from "node:worker_threads";
import { serveTasks, Transfer } from "./worker-pool";

export interface HashJob {
  /** The bytes to hash; transfer it to the pool so it moves instead of being copied. */
  data: ArrayBuffer;
  /** How many chained SHA-256 rounds to run (a positive integer). */
  rounds: number;
}

export interface HashResult {
  /** Hex digest of the last round. */
  digest: string;
  /** The job's buffer, moved back to the caller. */
  data: ArrayBuffer;
  /** The thread that did the work. */
  threadId: number;
}

/**
 * Chained SHA-256: round i hashes (digest of round i-1, or nothing for the first) followed
 * by the data, so every round reads the whole buffer and no round can be skipped.
 */
function chainedSha256(data: Uint8Array, rounds: number): string {
  let digest: Uint8Array = new Uint8Array(0);
  for (let round = 0; round < rounds; round++) digest = createHash("sha256").update(digest).update(data).digest();
  return Buffer.from(digest).toString("hex");
}

serveTasks<HashJob, HashResult>(({ data, rounds }) => {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  if (!(data instanceof ArrayBuffer)) throw new TypeError("data must be an ArrayBuffer");
  const digest = chainedSha256(new Uint8Array(data), rounds);
  return new Transfer({ digest, data, threadId }, [data]);
});
