// Kata: worker-pool, the worker side (week 2, Async & Threading).
//
// The entry file every thread of the pool runs (the tests start it with
// `new WorkerPool({ filename: <this file> })`). It serves hash jobs: chained SHA-256 over a
// buffer, `rounds` times, where round i hashes the previous round's digest (nothing for the
// first round) followed by the whole buffer. That is CPU work that would stall an event
// loop, which is why it runs here.
//
// - Reply with the hex digest of the last round, this thread's `threadId`, and the job's
//   buffer moved back to the caller (return a `Transfer` listing it) so it is not copied.
// - `rounds` must be a positive integer and `data` an ArrayBuffer: throw a RangeError or a
//   TypeError otherwise (the pool sends the error back to the caller).
//
// Tests: tests/worker-pool.test.ts (run `npm run check week2 worker-pool`).
// Keep the exported names and signatures: the tests import them.
import { NotImplementedError } from "#kata";
import { serveTasks } from "./worker-pool";

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

serveTasks<HashJob, HashResult>((job) => {
  // TODO: validate the job, run the chained rounds with node:crypto's createHash("sha256"),
  //       and return new Transfer({ digest, data, threadId }, [data]).
  void job;
  throw new NotImplementedError("worker-pool");
});
