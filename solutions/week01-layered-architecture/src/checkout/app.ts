import express, { type Express } from "express";
import type { Pool } from "pg";
import { checkoutRouter } from "./http";
import { CheckoutService } from "./service";
import { PgCheckoutStore } from "./store";

/** What the checkout needs from outside. */
export interface CheckoutDeps {
  /** The database; the checkout runs in a transaction on one client from connect(). */
  readonly db: Pick<Pool, "connect">;
  /** Milliseconds since the epoch, like Date.now. */
  readonly clock: { now(): number };
  /** Receives every unexpected error (the client only sees "internal error"). */
  readonly report: (error: unknown) => void;
}

export type { PricedLine, Quote } from "./domain";

/**
 * The composition root: the only place that knows every layer, and the only one that picks
 * the adapters. Swapping Postgres for something else is a change here and in store.ts.
 */
export function createCheckoutApp(deps: CheckoutDeps): Express {
  const service = new CheckoutService(new PgCheckoutStore(deps.db), deps.clock);
  const app = express();
  app.use(checkoutRouter(service, deps.report));
  return app;
}
