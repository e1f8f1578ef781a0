import {
  type CartItem,
  checkAvailability,
  parseCoupon,
  priceCart,
  type PricedLine,
  type Product,
  type Quote,
} from "./domain";

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

/**
 * The steps of a checkout that touch storage, all inside one transaction. Declared here, in
 * the service's own words, and implemented by the store: the dependency points from the
 * SQL to the use case, never the other way.
 */
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

/** The checkout use case: orchestration only; the rules are the domain's, the SQL the store's. */
export class CheckoutService {
  constructor(
    private readonly store: CheckoutStore,
    private readonly clock: { now(): number },
  ) {}

  /** Checks, prices and records a checkout; rejects with CheckoutRejected when the rules refuse it. */
  async checkout(request: CheckoutRequest): Promise<Receipt> {
    // A bad coupon needs no database: refuse it before opening a transaction.
    const coupon = parseCoupon(request.coupon);
    const skus = request.items.map((item) => item.sku);
    // The transaction is the use case's boundary: the stock read under lock, the check, the
    // decrement and the order commit together, so two checkouts can never sell the same unit.
    return this.store.transaction(async (tx) => {
      const products = await tx.lockProducts(skus);
      checkAvailability(request.items, products);
      const quote = priceCart(
        request.items.map((item) => ({ product: products.get(item.sku)!, quantity: item.quantity })),
        coupon,
      );
      for (const item of request.items) await tx.decrementStock(item.sku, item.quantity);
      const createdAt = new Date(this.clock.now());
      const orderId = await tx.insertOrder({
        customerId: request.customerId,
        totalCents: quote.totalCents,
        createdAt,
        lines: quote.lines,
      });
      return { orderId, customerId: request.customerId, ...quote, createdAt: createdAt.toISOString() };
    });
  }
}
