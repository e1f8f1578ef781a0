// Kata: transactional-outbox (1 of 2: the writing side; the relay is in outbox-relay.ts)
//
// The order service must change its database AND tell the world. Writing the row and then
// publishing (or publishing and then committing) is a dual write: a crash, a failed COMMIT
// or a broker outage in between leaves one without the other. The outbox pattern makes it
// one write: the business row and the event row (table `outbox`, see outbox-schema.ts) are
// inserted in ONE transaction, and a separate relay publishes committed outbox rows later.
// Build OrderService:
// - placeOrder inserts the order and an ORDER_PLACED_V2 outbox row (data as OrderPlacedV2Data,
//   total in EUR), in one transaction;
// - addLine adds quantity * priceCents to the order's total and one to its line count, and
//   writes an ORDER_LINE_ADDED_V1 row (data: { orderId, sku, quantity, priceCents }), in one
//   transaction; an order that does not exist is UnknownOrderError and writes nothing;
// - each outbox row gets a fresh event id (options.newId, default crypto.randomUUID), the
//   order id as aggregate_id and occurred_at from the injected clock;
// - hooks.beforeCommit runs inside the transaction, after both writes, just before COMMIT: a
//   throw there (a crash, a failed COMMIT) must leave neither the order nor the event behind.
// This service never talks to Redis: publishing is the relay's job.
//
// Tests: tests/transactional-outbox.test.ts (`npm run check week9 transactional-outbox`).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

export interface PlaceOrder {
  readonly orderId: string;
  readonly customerId: string;
  /** Euro cents, a non-negative integer. */
  readonly totalCents: number;
}

export interface AddLine {
  readonly orderId: string;
  readonly sku: string;
  /** A positive integer. */
  readonly quantity: number;
  /** Euro cents per unit, a non-negative integer. */
  readonly priceCents: number;
}

/** What a write answers: the id of the event it recorded. */
export interface Recorded {
  readonly eventId: string;
}

export class UnknownOrderError extends Error {
  readonly code = "ERR_UNKNOWN_ORDER";

  constructor(readonly orderId: string) {
    super(`unknown order ${orderId}`);
    this.name = "UnknownOrderError";
  }
}

export interface OrderServiceOptions {
  /** Where occurred_at comes from. Default: the system clock. */
  readonly clock?: Clock;
  /** A new, unique event id (a UUID: the column is uuid). Default: crypto.randomUUID. */
  readonly newId?: () => string;
  readonly hooks?: {
    /** Inside the transaction, after the business row and the outbox row, before COMMIT. */
    beforeCommit?(eventId: string): Promise<void> | void;
  };
}

export class OrderService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: OrderServiceOptions = {},
  ) {}

  /** Records a new order and its order.placed event, atomically. */
  async placeOrder(order: PlaceOrder): Promise<Recorded> {
    // TODO: one client, BEGIN, INSERT the order, INSERT the outbox row, beforeCommit, COMMIT;
    //       ROLLBACK on any error and always release the client.
    throw new NotImplementedError("transactional-outbox");
  }

  /** Adds a line to an existing order and records its order.line-added event, atomically. */
  async addLine(line: AddLine): Promise<Recorded> {
    // TODO: the same transaction shape; UPDATE ... RETURNING tells you whether the order exists.
    throw new NotImplementedError("transactional-outbox");
  }
}
