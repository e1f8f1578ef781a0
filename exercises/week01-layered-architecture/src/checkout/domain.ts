/**
 * Kata untangle-legacy, the domain layer: the checkout's business rules as pure functions
 * over plain data. No I/O, no clock, no framework: every rule runs in a unit test in
 * microseconds. tests/untangle-legacy.test.ts calls these functions directly, and checks that
 * this file reaches neither express nor pg (type imports count) and imports no other layer.
 *
 * Move the rules here from the legacy handler in app.ts, keeping every detail: the coupon
 * codes (case and surrounding spaces ignored; an unknown code is refused with the message
 * "unknown coupon <code as typed>"), the stock checks (the first item in cart order that is
 * unknown or short of stock refuses the cart, with the legacy messages), and the pricing
 * arithmetic in integer cents, rounding included.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
// TODO: these two types still live in the legacy file. Move their definitions here, and turn
// the dependency around: app.ts may import the domain, never the reverse.
import type { PricedLine, Quote } from "./app";

export type { PricedLine, Quote };

/** Why a checkout was refused; the http layer picks the status code for each. */
export type RejectionReason = "unknown-coupon" | "unknown-sku" | "out-of-stock";

/** A checkout the rules refuse. The message is the one customers have always seen. */
export class CheckoutRejected extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
    this.name = "CheckoutRejected";
  }
}

/** A product as the checkout sees it: price in integer cents, units in stock. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly stock: number;
}

/** What the customer asked for. */
export interface CartItem {
  readonly sku: string;
  readonly quantity: number;
}

/** A cart item with the product it names: what pricing works on. */
export interface CartLine {
  readonly product: Product;
  readonly quantity: number;
}

export type Coupon =
  { readonly kind: "percent"; readonly percent: number } | { readonly kind: "amount"; readonly amountCents: number };

/** The pricing policy in one place, named, instead of magic numbers inside a handler. */
export const PRICING = {
  /** A line of at least this many units gets the bulk discount. */
  bulkFromQuantity: 10,
  bulkPercent: 5,
  shippingCents: 499,
  /** Shipping is free from this subtotal, judged before any discount. */
  freeShippingFromCents: 5_000,
} as const;

/** The coupon a code names, ignoring case and surrounding spaces; undefined for no code. */
export function parseCoupon(code: string | undefined): Coupon | undefined {
  // TODO: SAVE10 is 10 % off, WELCOME5 is 500 cents off; anything else is a CheckoutRejected.
  throw new NotImplementedError("untangle-legacy");
}

/** Refuses the cart at its first item (in the customer's order) that is unknown or short of stock. */
export function checkAvailability(items: readonly CartItem[], products: ReadonlyMap<string, Product>): void {
  // TODO: the loop from the legacy handler, throwing CheckoutRejected instead of answering HTTP.
  throw new NotImplementedError("untangle-legacy");
}

/** Prices a cart: bulk discount per line, then the coupon on what remains, then shipping. */
export function priceCart(items: readonly CartLine[], coupon: Coupon | undefined): Quote {
  // TODO: the pricing block of the legacy handler, as a pure function.
  throw new NotImplementedError("untangle-legacy");
}
