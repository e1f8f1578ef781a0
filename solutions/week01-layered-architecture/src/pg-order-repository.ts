import type { Pool, PoolClient } from "pg";
import { ConcurrencyError } from "./errors";
import type { Order, OrderLine, OrderStatus } from "./order";
import type { OrderRepository } from "./ports";

/**
 * The tables, created in whatever schema the pool's search_path names. Money is bigint cents
 * (an int4 overflows at 21 million euros; a float cannot add cents exactly), instants are
 * timestamptz (a timestamp without time zone silently means "in the server's time zone"),
 * and the CHECKs keep a buggy writer from storing what the domain forbids.
 */
export const ORDER_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS orders (
  id          text        PRIMARY KEY,
  customer_id text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
  total_cents bigint      NOT NULL CHECK (total_cents >= 0),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  version     integer     NOT NULL CHECK (version >= 1)
);
CREATE TABLE IF NOT EXISTS order_lines (
  order_id         text    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no          integer NOT NULL,
  sku              text    NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line_no)
);`;

// One statement reads the order and its lines, so both come from the same snapshot: two
// separate SELECTs could see the lines of one version and the header of the next.
const SELECT_ORDER = `
SELECT o.id, o.customer_id, o.status, o.total_cents, o.created_at, o.updated_at, o.version,
       l.sku, l.quantity, l.unit_price_cents
  FROM orders o
  LEFT JOIN order_lines l ON l.order_id = o.id
 WHERE o.id = $1
 ORDER BY l.line_no`;

// ON CONFLICT DO NOTHING turns a duplicate id into "0 rows" instead of an error that would
// abort the transaction; a concurrent insert of the same id waits for the first to commit.
const INSERT_ORDER = `
INSERT INTO orders (id, customer_id, status, total_cents, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO NOTHING`;

// The version in the WHERE clause is the optimistic lock: a concurrent writer holds the row
// lock until it commits, after which this UPDATE re-checks the version and matches 0 rows.
const UPDATE_ORDER = `
UPDATE orders
   SET customer_id = $2, status = $3, total_cents = $4, created_at = $5, updated_at = $6, version = $7
 WHERE id = $1 AND version = $8`;

const DELETE_LINES = `DELETE FROM order_lines WHERE order_id = $1`;

// All lines in one round trip; WITH ORDINALITY numbers them in the order the arrays list them.
const INSERT_LINES = `
INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents)
SELECT $1, line.no, line.sku, line.quantity, line.unit_price_cents
  FROM unnest($2::text[], $3::integer[], $4::bigint[]) WITH ORDINALITY AS line (sku, quantity, unit_price_cents, no)`;

interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  total_cents: string;
  created_at: Date;
  updated_at: Date;
  version: number;
  sku: string | null;
  quantity: number | null;
  unit_price_cents: string | null;
}

/** The OrderRepository port on Postgres through a pg Pool, with optimistic concurrency. */
export class PgOrderRepository implements OrderRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Creates the tables if they are missing. Safe to run again; the advisory lock keeps two
   * processes that migrate at once from racing on CREATE TABLE IF NOT EXISTS (which is not
   * atomic against a concurrent creator).
   */
  async migrate(): Promise<void> {
    await this.inTransaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('week01.order-tables'))");
      await client.query(ORDER_TABLES_SQL);
    });
  }

  /** The stored order with this id, or undefined. */
  async findById(id: string): Promise<Order | undefined> {
    const { rows } = await this.pool.query<OrderRow>(SELECT_ORDER, [id]);
    const head = rows[0];
    if (!head) return undefined;
    const lines: OrderLine[] = rows
      .filter((row) => row.sku !== null)
      .map((row) => ({ sku: row.sku!, quantity: row.quantity!, unitPriceCents: cents(row.unit_price_cents!) }));
    return {
      id: head.id,
      customerId: head.customer_id,
      status: head.status,
      lines,
      totalCents: cents(head.total_cents),
      createdAt: head.created_at,
      updatedAt: head.updated_at,
      version: head.version,
    };
  }

  /** Inserts (version 0) or replaces (version n) the order and its lines in one transaction. */
  async save(order: Order): Promise<Order> {
    const version = order.version + 1;
    const values = [
      order.id,
      order.customerId,
      order.status,
      order.totalCents,
      order.createdAt,
      order.updatedAt,
      version,
    ];
    try {
      await this.inTransaction(async (client) => {
        const written =
          order.version === 0
            ? await client.query(INSERT_ORDER, values)
            : await client.query(UPDATE_ORDER, [...values, order.version]);
        if (written.rowCount !== 1) throw new ConcurrencyError(order.id, order.version);
        if (order.version !== 0) await client.query(DELETE_LINES, [order.id]);
        await client.query(INSERT_LINES, [
          order.id,
          order.lines.map((line) => line.sku),
          order.lines.map((line) => line.quantity),
          order.lines.map((line) => line.unitPriceCents),
        ]);
      });
    } catch (error) {
      // Under READ COMMITTED a lost race is "0 rows". A server that runs transactions at
      // REPEATABLE READ or SERIALIZABLE (default_transaction_isolation) reports the same race
      // as 40001 serialization_failure: the same news for the caller, who must reload and
      // decide again. (A unique violation, 23505, cannot reach here: ON CONFLICT DO NOTHING
      // turns a duplicate id into "0 rows".)
      if (isSerializationFailure(error)) throw new ConcurrencyError(order.id, order.version);
      throw error;
    }
    // A fresh object, as a read would give: the caller may mutate it without touching ours.
    return {
      id: order.id,
      customerId: order.customerId,
      status: order.status,
      lines: order.lines.map((line) => ({
        sku: line.sku,
        quantity: line.quantity,
        unitPriceCents: line.unitPriceCents,
      })),
      totalCents: order.totalCents,
      createdAt: new Date(order.createdAt.getTime()),
      updatedAt: new Date(order.updatedAt.getTime()),
      version,
    };
  }

  /**
   * Runs `work` on one client between BEGIN and COMMIT, rolling back on any error. A client
   * whose ROLLBACK failed is in an unknown state, so it is destroyed instead of returned.
   */
  private async inTransaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** SQLSTATE 40001: another transaction changed what this one read, and won. */
function isSerializationFailure(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "40001";
}

/**
 * pg returns bigint as a string, because not every int8 fits a JS number. Converting per
 * column keeps that decision here; a global pg.types.setTypeParser would change every query
 * of every library in the process.
 */
function cents(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed))
    throw new RangeError(`a stored amount of ${value} cents is beyond exact JS arithmetic`);
  return parsed;
}
