// Reference solution for the `transactional-outbox` kata, writing side: the business row and
// its event commit together or not at all.

import { randomUUID } from "node:crypto";
import type pg from "pg";
import { type Clock, systemClock } from "./clock";
import { ORDER_LINE_ADDED_V1, ORDER_PLACED_V2, type OrderPlacedV2Data } from "./events";

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

const INSERT_EVENT = `
  INSERT INTO outbox (event_id, aggregate_id, event_type, payload, occurred_at)
  VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0))`;

/** Inserts one outbox row in the transaction at hand. */
type RecordEvent = (aggregateId: string, type: string, data: unknown) => Promise<Recorded>;

export class OrderService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: OrderServiceOptions = {},
  ) {}

  /** Records a new order and its order.placed event, atomically. */
  async placeOrder(order: PlaceOrder): Promise<Recorded> {
    return this.inTransaction(async (client, record) => {
      await client.query("INSERT INTO orders (id, customer_id, total_cents) VALUES ($1, $2, $3)", [
        order.orderId,
        order.customerId,
        order.totalCents,
      ]);
      const data: OrderPlacedV2Data = {
        orderId: order.orderId,
        customerId: order.customerId,
        total: { amountMinor: order.totalCents, currency: "EUR" },
      };
      return record(order.orderId, ORDER_PLACED_V2, data);
    });
  }

  /** Adds a line to an existing order and records its order.line-added event, atomically. */
  async addLine(line: AddLine): Promise<Recorded> {
    return this.inTransaction(async (client, record) => {
      // The UPDATE takes the order's row lock, so two writes to one order serialise here and
      // their outbox positions follow their commit order.
      const updated = await client.query(
        "UPDATE orders SET total_cents = total_cents + $2::bigint * $3::bigint, lines = lines + 1 WHERE id = $1",
        [line.orderId, line.quantity, line.priceCents],
      );
      if (updated.rowCount === 0) throw new UnknownOrderError(line.orderId);
      const { orderId, sku, quantity, priceCents } = line;
      return record(orderId, ORDER_LINE_ADDED_V1, { orderId, sku, quantity, priceCents });
    });
  }

  private async inTransaction(
    work: (client: pg.PoolClient, record: RecordEvent) => Promise<Recorded>,
  ): Promise<Recorded> {
    const clock = this.options.clock ?? systemClock;
    const newId = this.options.newId ?? randomUUID;
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      const recorded = await work(client, async (aggregateId, type, data) => {
        const eventId = newId();
        await client.query(INSERT_EVENT, [eventId, aggregateId, type, JSON.stringify(data), clock.now()]);
        return { eventId };
      });
      await this.options.hooks?.beforeCommit?.(recorded.eventId);
      await client.query("COMMIT");
      return recorded;
    } catch (error) {
      // Stryker disable next-line ArrowFunction,BooleanLiteral: only a connection that died mid-run fails its ROLLBACK
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw error;
    } finally {
      // A client whose ROLLBACK failed may still be inside a transaction: never reuse it.
      client.release(broken);
    }
  }
}
