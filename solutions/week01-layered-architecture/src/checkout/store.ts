import type { Pool, PoolClient } from "pg";
import type { Product } from "./domain";
import type { CheckoutStore, CheckoutTx, NewOrder } from "./service";

interface ProductRow {
  sku: string;
  name: string;
  /** bigint: pg returns it as a string. */
  price_cents: string;
  stock: number;
}

/** The checkout's storage port on Postgres: every SQL statement of the checkout lives here. */
export class PgCheckoutStore implements CheckoutStore {
  constructor(private readonly db: Pick<Pool, "connect">) {}

  /**
   * BEGIN, the work, COMMIT on one client; ROLLBACK on any error; the client always released.
   * A client whose ROLLBACK failed is in an unknown state: it is released with the error, so
   * the pool destroys it instead of handing a half-open transaction to the next checkout.
   */
  async transaction<T>(work: (tx: CheckoutTx) => Promise<T>): Promise<T> {
    const client = await this.db.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(new PgCheckoutTx(client));
      await client.query("COMMIT");
      return result;
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

class PgCheckoutTx implements CheckoutTx {
  constructor(private readonly client: PoolClient) {}

  async lockProducts(skus: readonly string[]): Promise<ReadonlyMap<string, Product>> {
    // FOR UPDATE holds the rows until COMMIT: a concurrent checkout of the same sku waits
    // here instead of reading a stock level that is about to change.
    const { rows } = await this.client.query<ProductRow>(
      "SELECT sku, name, price_cents, stock FROM products WHERE sku = ANY($1) FOR UPDATE",
      [skus],
    );
    return new Map(
      rows.map((row) => [
        row.sku,
        { sku: row.sku, name: row.name, priceCents: Number(row.price_cents), stock: row.stock },
      ]),
    );
  }

  async decrementStock(sku: string, quantity: number): Promise<void> {
    await this.client.query("UPDATE products SET stock = stock - $2 WHERE sku = $1", [sku, quantity]);
  }

  async insertOrder(order: NewOrder): Promise<string> {
    const { rows } = await this.client.query<{ id: string | number }>(
      "INSERT INTO orders (customer_id, total_cents, created_at, lines) VALUES ($1, $2, $3, $4) RETURNING id",
      [order.customerId, order.totalCents, order.createdAt, JSON.stringify(order.lines)],
    );
    return String(rows[0]!.id);
  }
}
