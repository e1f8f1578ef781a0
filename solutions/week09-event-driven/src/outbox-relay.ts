// Reference solution for the `transactional-outbox` kata, relay side: committed outbox rows
// to a Redis Stream, at least once, in order per aggregate, with any number of relays.

import type { Redis } from "ioredis";
import type pg from "pg";
import { type Clock, systemClock } from "./clock";

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

interface OutboxRow {
  position: string;
  event_id: string;
  aggregate_id: string;
  event_type: string;
  payload: unknown;
  occurred_at: Date;
}

// Oldest first; rows another relay holds are skipped, not waited for.
const CLAIM = `
  SELECT position, event_id, aggregate_id, event_type, payload, occurred_at
    FROM outbox
   WHERE sent_at IS NULL
   ORDER BY position
   LIMIT $1
     FOR UPDATE SKIP LOCKED`;

// Claimed rows that must wait: an older unsent event of their aggregate is not in this batch
// (another relay holds it). Publishing them now would overtake it.
const BLOCKED = `
  SELECT o.position
    FROM outbox o
   WHERE o.position = ANY($1::bigint[])
     AND EXISTS (SELECT 1 FROM outbox p
                  WHERE p.aggregate_id = o.aggregate_id
                    AND p.sent_at IS NULL
                    AND p.position < o.position
                    AND NOT (p.position = ANY($1::bigint[])))`;

const PRUNE_CHUNK = 5_000;

export class OutboxRelay {
  constructor(private readonly options: RelayOptions) {}

  /** Publishes one batch of committed, unsent events and marks them sent; answers how many. */
  async relayOnce(): Promise<number> {
    const { pool, hooks } = this.options;
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      const claimed = await client.query<OutboxRow>(CLAIM, [this.options.batchSize ?? 100]);
      const positions = claimed.rows.map((row) => row.position);
      const blocked = new Set<string>();
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the query on no rows answers none
      if (positions.length > 0) {
        const { rows } = await client.query<{ position: string }>(BLOCKED, [positions]);
        for (const row of rows) blocked.add(row.position);
      }
      const batch = claimed.rows.filter((row) => !blocked.has(row.position));
      // An empty batch would publish and mark nothing anyway.
      // Stryker disable next-line ConditionalExpression,BlockStatement: see above
      if (batch.length === 0) {
        await client.query("COMMIT");
        return 0;
      }
      const events = batch.map((row) => ({
        eventId: row.event_id,
        aggregateId: row.aggregate_id,
        eventType: row.event_type,
      }));
      await hooks?.beforePublish?.(events);
      await this.publish(batch);
      await hooks?.afterPublish?.(events);
      // Marked only now: a crash before this COMMIT republishes the batch (a duplicate with the
      // same ids), never loses it.
      await client.query("UPDATE outbox SET sent_at = to_timestamp($2 / 1000.0) WHERE position = ANY($1::bigint[])", [
        batch.map((row) => row.position),
        (this.options.clock ?? systemClock).now(),
      ]);
      await client.query("COMMIT");
      return batch.length;
    } catch (error) {
      // Stryker disable next-line ArrowFunction,BooleanLiteral: only a connection that died mid-run fails its ROLLBACK
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs relayOnce until a run publishes nothing; answers the total published. */
  async drain(): Promise<number> {
    let total = 0;
    for (let published = await this.relayOnce(); published > 0; published = await this.relayOnce()) total += published;
    return total;
  }

  /** Deletes the events sent more than `retentionMs` ago; answers how many. Unsent rows stay. */
  async prune(retentionMs: number): Promise<number> {
    const cutoff = (this.options.clock ?? systemClock).now() - retentionMs;
    let total = 0;
    // In chunks, so pruning a long backlog never holds thousands of row locks in one statement.
    for (;;) {
      const { rowCount } = await this.options.pool.query(
        `DELETE FROM outbox WHERE position IN (
           SELECT position FROM outbox WHERE sent_at IS NOT NULL AND sent_at < to_timestamp($1 / 1000.0) LIMIT $2)`,
        [cutoff, PRUNE_CHUNK],
      );
      total += rowCount ?? 0;
      // Stryker disable next-line all: the chunking shows only past 5 000 rows
      if ((rowCount ?? 0) < PRUNE_CHUNK) return total;
    }
  }

  /** One XADD per row, pipelined in position order; any failed entry fails the batch. */
  private async publish(rows: readonly OutboxRow[]): Promise<void> {
    const { redis, stream, source } = this.options;
    const pipeline = redis.pipeline();
    for (const row of rows) {
      const event = {
        specversion: "1.0",
        id: row.event_id,
        source,
        type: row.event_type,
        subject: row.aggregate_id,
        time: row.occurred_at.toISOString(),
        datacontenttype: "application/json",
        data: row.payload,
      };
      pipeline.xadd(stream, "*", "event", JSON.stringify(event));
    }
    // Stryker disable next-line ArrayDeclaration: exec() answers null only for a discarded pipeline
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error !== null);
    if (failure) throw failure[0];
  }
}
