// Kata: transactional-outbox (2 of 2: the relay; the writing side is in order-service.ts)
//
// The relay moves committed outbox rows to a Redis Stream, where other services read them.
// It runs as several instances at once, and any of them may crash at any point. Build it:
// - relayOnce() claims up to batchSize unsent rows, oldest first, with
//   SELECT ... FOR UPDATE SKIP LOCKED in a transaction held open while it publishes: another
//   relay skips those rows instead of publishing them too, and never waits for them;
// - order per aggregate: an event is published only when every older unsent event of the
//   same aggregate is in this batch (a row another relay holds blocks the younger rows of its
//   aggregate until it is sent); other aggregates go ahead;
// - each row becomes one stream entry, XADD <stream> * event <json>, where <json> is the row
//   as a CloudEvent: { specversion: "1.0", id: event_id, source: options.source,
//   type: event_type, subject: aggregate_id, time: occurred_at (ISO 8601, UTC),
//   datacontenttype: "application/json", data: payload }, in position order;
// - only after every entry of the batch is in the stream, the rows are marked sent
//   (sent_at = the injected clock's now) and the transaction commits. A publish that fails
//   leaves the rows unsent for the next run. A crash after publishing and before the commit
//   publishes the rows again next time: a duplicate with the same event id, which consumers
//   absorb; that is the at-least-once price, and the only duplicate a normal run may make;
// - hooks.beforePublish runs with the rows about to be published (after the claim, locks
//   held) and hooks.afterPublish after publishing, before marking: a throw from either is a
//   crash at that point, and relayOnce rejects with it after rolling back;
// - drain() runs relayOnce until it publishes nothing; prune(retentionMs) deletes the rows
//   sent more than retentionMs ago (injected clock) and never an unsent row.
//
// Tests: tests/transactional-outbox.test.ts (`npm run check week9 transactional-outbox`).
// Keep the exported names and signatures: the tests import them.

import type { Redis } from "ioredis";
import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

/** An outbox row the relay is about to publish or has just published. */
export interface OutboxEvent {
  readonly eventId: string;
  readonly aggregateId: string;
  readonly eventType: string;
}

export interface RelayHooks {
  /** After the claim, before the first XADD; the claimed rows are locked while it runs. */
  beforePublish?(events: readonly OutboxEvent[]): Promise<void> | void;
  /** After the last XADD of the batch, before the rows are marked sent. */
  afterPublish?(events: readonly OutboxEvent[]): Promise<void> | void;
}

export interface RelayOptions {
  readonly pool: pg.Pool;
  readonly redis: Redis;
  /** The stream key the events go to. */
  readonly stream: string;
  /** The CloudEvents source of every event ("/orders"). */
  readonly source: string;
  /** Most rows per relayOnce. Default 100. */
  readonly batchSize?: number;
  /** Where sent_at and pruning read the time. Default: the system clock. */
  readonly clock?: Clock;
  readonly hooks?: RelayHooks;
}

export class OutboxRelay {
  constructor(private readonly options: RelayOptions) {}

  /** Publishes one batch of committed, unsent events and marks them sent; answers how many. */
  async relayOnce(): Promise<number> {
    // TODO: BEGIN; claim with FOR UPDATE SKIP LOCKED; keep the rows whose older unsent
    //       siblings are all claimed too; hooks; XADD each; hooks; mark sent; COMMIT.
    throw new NotImplementedError("transactional-outbox");
  }

  /** Runs relayOnce until a run publishes nothing; answers the total published. */
  async drain(): Promise<number> {
    // TODO: loop over relayOnce.
    throw new NotImplementedError("transactional-outbox");
  }

  /** Deletes the events sent more than `retentionMs` ago; answers how many. Unsent rows stay. */
  async prune(retentionMs: number): Promise<number> {
    // TODO: DELETE the old sent rows, by sent_at against the injected clock.
    throw new NotImplementedError("transactional-outbox");
  }
}
