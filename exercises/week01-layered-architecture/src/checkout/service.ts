/**
 * Kata untangle-legacy, the service layer: the checkout use case. It orchestrates, it does not
 * decide: the rules are the domain's, the SQL is the store's. It declares the port it needs
 * (CheckoutStore, CheckoutTx) in its own words; store.ts implements it. It must not reach
 * express, directly or through another module (tests/untangle-legacy.test.ts reads the graph).
 *
 * The order of steps is the legacy handler's, and the characterization tests see it in the
 * statements the database receives: refuse a bad coupon before any database work; then in one
 * transaction lock the products, check them, price, decrement each item's stock in cart order,
 * and insert the order (createdAt from the clock).
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { CartItem, PricedLine, Product, Quote } from "./domain";

/** A validated checkout request, as the http layer hands it over. */
export interface CheckoutRequest {
  readonly customerId: string;
  readonly items: readonly CartItem[];
  readonly coupon?: string;
}

/** What a successful checkout returns: the stored order's id and the priced cart. */
export interface Receipt extends Quote {
  orderId: string;
  customerId: string;
  /** ISO 8601, UTC. */
  createdAt: string;
}

/** The order row the service asks the store to write. */
export interface NewOrder {
  readonly customerId: string;
  readonly totalCents: number;
  readonly createdAt: Date;
  readonly lines: readonly PricedLine[];
}

/** The steps of a checkout that touch storage, all inside one transaction. */
export interface CheckoutTx {
  /** The products with these skus, locked until the transaction ends; unknown skus are absent. */
  lockProducts(skus: readonly string[]): Promise<ReadonlyMap<string, Product>>;
  decrementStock(sku: string, quantity: number): Promise<void>;
  /** Stores the order and returns its id. */
  insertOrder(order: NewOrder): Promise<string>;
}

/** Runs `work` in a transaction: committed if it resolves, rolled back if it throws. */
export interface CheckoutStore {
  transaction<T>(work: (tx: CheckoutTx) => Promise<T>): Promise<T>;
}

/** The checkout use case: orchestration only. */
export class CheckoutService {
  constructor(
    private readonly store: CheckoutStore,
    private readonly clock: { now(): number },
  ) {}

  /** Checks, prices and records a checkout; rejects with CheckoutRejected when the rules refuse it. */
  async checkout(request: CheckoutRequest): Promise<Receipt> {
    // TODO: parseCoupon first, then this.store.transaction(async (tx) => { … }).
    throw new NotImplementedError("untangle-legacy");
  }
}
