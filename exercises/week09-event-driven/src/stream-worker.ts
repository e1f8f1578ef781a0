// Kata: stream-consumer (1 of 2: the worker; the idempotent effect is in credit-ledger.ts)
//
// A Redis Stream is a log; a consumer group turns it into a work queue with memory: each
// entry goes to one consumer of the group, stays in the group's Pending Entries List (PEL)
// until that consumer XACKs it, and can be claimed by another consumer when its owner died.
// Build StreamWorker, one consumer of one group:
// - ensureGroup(): XGROUP CREATE <stream> <group> 0 MKSTREAM (the group starts at the
//   beginning of the stream); a group that already exists is left as it is (BUSYGROUP);
//   any other error (the key holds something else) rejects.
// - pollOnce(): first take over the entries that sat pending (in anyone's PEL, this
//   consumer's included) for at least claimIdleMs (XAUTOCLAIM), then read new ones
//   (XREADGROUP ... >, at most batchSize, no BLOCK), and process them one by one:
//   * deliveries is Redis's delivery count (XPENDING's), so deliveries to consumers that
//     crashed count too; a new entry has 1;
//   * an entry already delivered more than maxDeliveries times goes to the dead-letter stream
//     without calling the handler; so does one whose handler fails on delivery maxDeliveries;
//   * otherwise call the handler; XACK only after it resolved. A handler that throws leaves
//     the entry pending: it is retried later (XAUTOCLAIM once idle, or your own re-read);
//   * hooks.afterHandle runs after the handler and before the XACK: a throw there is a crash
//     at that point, pollOnce rejects with it, and the entry stays pending.
//   A dead letter is one XADD to deadLetterStream with the entry's fields plus x-original-id
//   (the entry id), x-deliveries and x-error (the failure, in words), then the XACK of the
//   original, in one Lua script: atomic, and a failing XADD stops it before the XACK. (A
//   MULTI is atomic too, but it does not roll back: when its XADD fails, its XACK still runs,
//   and the entry is gone.) A dead letter that cannot be written leaves the entry pending.
// - run(signal): pollOnce in a loop, waiting for new entries with BLOCK blockMs between
//   polls, until the signal aborts; it resolves once the current poll is over.
// - trim(): XTRIM the stream with MINID (exact or ~) so that no entry any group still
//   needs is removed: not one pending in any group's PEL, not one a group has not read yet
//   (after its last-delivered-id). Answers how many entries it removed; a stream without
//   groups is left as it is (0).
//
// Mind one ioredis quirk: a client's keyPrefix is applied to the keys of XADD, XREADGROUP,
// XACK, XAUTOCLAIM, XPENDING, XTRIM and MULTI, but NOT to XGROUP and XINFO, whose key comes
// after a subcommand. Prefix those yourself with `redis.options.keyPrefix ?? ""`.
//
// Tests: tests/stream-consumer.test.ts (`npm run check week9 stream-consumer`).
// Keep the exported names and signatures: the tests import them.

import type { Redis } from "ioredis";
import { NotImplementedError } from "#kata";

export interface StreamMessage {
  /** The entry id ("1700000000000-0"). */
  readonly id: string;
  /** The entry's fields, as strings. */
  readonly fields: Readonly<Record<string, string>>;
  /** How many times Redis delivered this entry, this delivery included. */
  readonly deliveries: number;
}

export type MessageHandler = (message: StreamMessage) => Promise<void> | void;

export interface StreamWorkerOptions {
  /** This worker's own connection (run() blocks on it). */
  readonly redis: Redis;
  readonly stream: string;
  readonly group: string;
  /** This consumer's name in the group, unique per worker. */
  readonly consumer: string;
  readonly handler: MessageHandler;
  readonly deadLetterStream: string;
  /** Deliveries an entry gets before it is dead-lettered. Default 5. */
  readonly maxDeliveries?: number;
  /** How long an entry must sit pending before another consumer may take it. Default 30 000. */
  readonly claimIdleMs?: number;
  /** Most entries read (and most claimed) per poll. Default 10. */
  readonly batchSize?: number;
  /** How long run() waits for new entries between polls. Default 1 000. */
  readonly blockMs?: number;
  readonly hooks?: {
    /** After the handler resolved, before the XACK. */
    afterHandle?(message: StreamMessage): Promise<void> | void;
  };
}

/** What one poll did. */
export interface PollResult {
  /** Handled and acknowledged. */
  readonly handled: number;
  /** Handler failures left pending for a retry. */
  readonly failed: number;
  /** Moved to the dead-letter stream. */
  readonly deadLettered: number;
}

export class StreamWorker {
  constructor(private readonly options: StreamWorkerOptions) {}

  /** Creates the consumer group (and the stream) unless it exists. */
  async ensureGroup(): Promise<void> {
    // TODO: XGROUP CREATE ... 0 MKSTREAM; ignore BUSYGROUP.
    throw new NotImplementedError("stream-consumer");
  }

  /** Claims idle pending entries, reads new ones, and processes them. */
  async pollOnce(): Promise<PollResult> {
    // TODO: XAUTOCLAIM (min idle claimIdleMs), XREADGROUP >, delivery counts from XPENDING,
    //       handler, hook, XACK; dead letters through a Lua script (defineCommand).
    throw new NotImplementedError("stream-consumer");
  }

  /** Polls until `signal` aborts, blocking up to blockMs for new entries between polls. */
  async run(signal: AbortSignal): Promise<void> {
    // TODO: loop: pollOnce; if it found nothing, wait for new entries (BLOCK) or the abort.
    throw new NotImplementedError("stream-consumer");
  }

  /** Trims the stream below the oldest entry any group still needs; answers how many were removed. */
  async trim(): Promise<number> {
    // TODO: XINFO GROUPS (last-delivered-id), XPENDING (oldest pending) for every group;
    //       XTRIM MINID at the lowest id still needed.
    throw new NotImplementedError("stream-consumer");
  }
}
