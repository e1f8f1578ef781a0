/**
 * The checkout's business rules, as pure functions over plain data: no I/O, no framework, no
 * clock. Everything here runs in a unit test in microseconds, and a pricing change is a change
 * to this file and its tests only.
 */

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

/** One line of the receipt. */
export interface PricedLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
  /** The bulk discount on this line. */
  discountCents: number;
  /** quantity × unitPriceCents − discountCents. */
  totalCents: number;
}

/** The priced cart. */
export interface Quote {
  lines: PricedLine[];
  /** Before any discount. */
  subtotalCents: number;
  /** Bulk discounts plus the coupon. */
  discountCents: number;
  shippingCents: number;
  totalCents: number;
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

// A Map, not an object literal: a customer-typed key must never find an inherited property.
const COUPONS: ReadonlyMap<string, Coupon> = new Map<string, Coupon>([
  ["SAVE10", { kind: "percent", percent: 10 }],
  ["WELCOME5", { kind: "amount", amountCents: 500 }],
]);

/**
 * The coupon a code names, ignoring case and surrounding spaces; undefined for no code.
 * An unknown code is refused (the message quotes the code as the customer typed it).
 */
export function parseCoupon(code: string | undefined): Coupon | undefined {
  if (code === undefined) return undefined;
  const coupon = COUPONS.get(code.trim().toUpperCase());
  if (!coupon) throw new CheckoutRejected("unknown-coupon", `unknown coupon ${code}`);
  return coupon;
}

/**
 * Refuses the cart at its first item (in the customer's order) that the shop does not sell
 * or cannot supply. `products` holds what the store found for the cart's skus.
 */
export function checkAvailability(items: readonly CartItem[], products: ReadonlyMap<string, Product>): void {
  for (const item of items) {
    const product = products.get(item.sku);
    if (!product) throw new CheckoutRejected("unknown-sku", `unknown sku ${item.sku}`);
    if (product.stock < item.quantity)
      throw new CheckoutRejected("out-of-stock", `only ${product.stock} of ${item.sku} left`);
  }
}

/**
 * Prices a cart: the bulk discount per line (rounded down, in the customer's disfavour by a
 * fraction of a cent, as it always was), then the coupon on what remains, then shipping.
 * Every amount is an integer number of cents; no float ever holds money.
 */
export function priceCart(items: readonly CartLine[], coupon: Coupon | undefined): Quote {
  let subtotalCents = 0;
  let bulkCents = 0;
  const lines = items.map(({ product, quantity }): PricedLine => {
    const lineSubtotal = product.priceCents * quantity;
    const discountCents =
      quantity >= PRICING.bulkFromQuantity ? Math.floor((lineSubtotal * PRICING.bulkPercent) / 100) : 0;
    subtotalCents += lineSubtotal;
    bulkCents += discountCents;
    return {
      sku: product.sku,
      name: product.name,
      quantity,
      unitPriceCents: product.priceCents,
      discountCents,
      totalCents: lineSubtotal - discountCents,
    };
  });
  const afterBulk = subtotalCents - bulkCents;
  const couponCents = couponDiscount(coupon, afterBulk);
  const shippingCents = subtotalCents >= PRICING.freeShippingFromCents ? 0 : PRICING.shippingCents;
  return {
    lines,
    subtotalCents,
    discountCents: bulkCents + couponCents,
    shippingCents,
    totalCents: afterBulk - couponCents + shippingCents,
  };
}

/** Never more than the goods cost: a coupon can make them free, not pay the customer. */
function couponDiscount(coupon: Coupon | undefined, amountCents: number): number {
  if (!coupon) return 0;
  if (coupon.kind === "percent") return Math.floor((amountCents * coupon.percent) / 100);
  return Math.min(coupon.amountCents, amountCents);
}
