/**
 * Kata untangle-legacy, the store: the pg adapter of the service's port (CheckoutStore), and
 * the only file of the checkout whose strings hold SQL (tests/untangle-legacy.test.ts checks).
 * Move the legacy statements here unchanged: the tests' fake database understands exactly
 * those. pg returns bigint columns as strings (price_cents): convert here, so the domain only
 * ever sees numbers. The legacy handler swallows a failed ROLLBACK and releases the client as
 * if it were clean; pass that error to release(error) instead, so the pool destroys a
 * connection in an unknown state (the tests cannot tell, a production pool can).
 *
 * Keep the exported names and signatures: the tests import them.
 */
import type { Pool } from "pg";
import { NotImplementedError } from "#kata";
import type { CheckoutStore, CheckoutTx } from "./service";

/** The checkout's storage port on Postgres: every SQL statement of the checkout lives here. */
export class PgCheckoutStore implements CheckoutStore {
  constructor(private readonly db: Pick<Pool, "connect">) {}

  /** BEGIN, the work, COMMIT on one client; ROLLBACK on any error; the client always released. */
  async transaction<T>(work: (tx: CheckoutTx) => Promise<T>): Promise<T> {
    // TODO: the connect / BEGIN / COMMIT / ROLLBACK / release skeleton of the legacy handler,
    // with a CheckoutTx over the client for lockProducts, decrementStock and insertOrder.
    throw new NotImplementedError("untangle-legacy");
  }
}
