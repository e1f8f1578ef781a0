/**
 * Kata untangle-legacy: this file is a working checkout endpoint that grew in one place.
 * Request validation, coupon rules, stock checks, pricing, SQL, the transaction and the HTTP
 * response all live in one handler. It works, customers depend on every detail of it, and
 * nobody dares to change the pricing because it can only be tested through HTTP and a database.
 *
 * Split it, without changing what it does, into:
 *   src/checkout/domain.ts   pure rules: coupons, stock checks, pricing (priceCart). No express,
 *                            no pg, not even a type import of them, and no import of the other layers.
 *   src/checkout/service.ts  the use case: opens the transaction (through a port it declares),
 *                            locks and checks the products, prices, writes. No express.
 *   src/checkout/store.ts    the only place with SQL: the pg adapter of the service's port.
 *   src/checkout/http.ts     the express router: parses the request, calls the service, maps
 *                            results and errors to responses (the legacy status codes and bodies).
 *   src/checkout/app.ts      this file, in the end only the composition root: it builds the
 *                            store, the service and the router and returns the express app.
 *
 * tests/untangle-legacy.test.ts has three parts. The characterization tests pin today's
 * HTTP behaviour, quirks included; they pass now and must still pass after every step (run
 * them often). The architecture tests read the import graph and the SQL of your files. The
 * domain tests call priceCart and friends directly, with no HTTP and no database at all.
 * The fake database of the tests understands exactly the statements below: move them, do not
 * rewrite them (whitespace may change).
 *
 * Keep the exported names and signatures of every file: the tests import them.
 */
import express, { type Express } from "express";
import type { Pool } from "pg";

/** What the checkout needs from outside. */
export interface CheckoutDeps {
  /** The database; the checkout runs in a transaction on one client from connect(). */
  readonly db: Pick<Pool, "connect">;
  /** Milliseconds since the epoch, like Date.now. */
  readonly clock: { now(): number };
  /** Receives every unexpected error (the client only sees "internal error"). */
  readonly report: (error: unknown) => void;
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

// TODO: this whole function is the tangle. Move the pieces out one at a time, running the
// characterization tests after each move: the coupon table and pricing arithmetic to
// domain.ts, the transaction and its steps to service.ts (through a port) and store.ts (the
// SQL), the request checks and the status codes to http.ts. Then make this the composition root.
export function createCheckoutApp(deps: CheckoutDeps): Express {
  const app = express();
  app.use(express.json());

  app.post("/checkout", async (req, res) => {
    const body = req.body ?? {};
    if (typeof body.customerId !== "string" || body.customerId.trim() === "") {
      res.status(400).json({ error: "customerId is required" });
      return;
    }
    if (!Array.isArray(body.items) || body.items.length === 0) {
      res.status(400).json({ error: "items must be a non-empty array" });
      return;
    }
    const seen = new Set<string>();
    for (const item of body.items) {
      if (typeof item?.sku !== "string" || item.sku === "") {
        res.status(400).json({ error: "every item needs a sku" });
        return;
      }
      if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > 99) {
        res.status(400).json({ error: `quantity of ${item.sku} must be a whole number from 1 to 99` });
        return;
      }
      if (seen.has(item.sku)) {
        res.status(400).json({ error: `${item.sku} appears twice` });
        return;
      }
      seen.add(item.sku);
    }
    if (body.coupon !== undefined && typeof body.coupon !== "string") {
      res.status(400).json({ error: "coupon must be a string" });
      return;
    }

    // coupons (marketing changes these every quarter)
    let percentOff = 0;
    let amountOffCents = 0;
    if (body.coupon !== undefined) {
      const code = body.coupon.trim().toUpperCase();
      if (code === "SAVE10") percentOff = 10;
      else if (code === "WELCOME5") amountOffCents = 500;
      else {
        res.status(422).json({ error: `unknown coupon ${body.coupon}` });
        return;
      }
    }

    const items: { sku: string; quantity: number }[] = body.items;
    const client = await deps.db.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query(
        "SELECT sku, name, price_cents, stock FROM products WHERE sku = ANY($1) FOR UPDATE",
        [items.map((item) => item.sku)],
      );
      const bySku = new Map(rows.map((row) => [row.sku as string, row]));
      for (const item of items) {
        const row = bySku.get(item.sku);
        if (!row) {
          await client.query("ROLLBACK");
          res.status(422).json({ error: `unknown sku ${item.sku}` });
          return;
        }
        if (row.stock < item.quantity) {
          await client.query("ROLLBACK");
          res.status(409).json({ error: `only ${row.stock} of ${item.sku} left` });
          return;
        }
      }

      // pricing: 5% off a line of 10 or more, rounded down; then the coupon; shipping is free
      // from 50.00, judged on the subtotal before any discount (finance insists)
      let subtotal = 0;
      let bulk = 0;
      const lines: PricedLine[] = [];
      for (const item of items) {
        const row = bySku.get(item.sku)!;
        const price = Number(row.price_cents);
        const lineSubtotal = price * item.quantity;
        const lineDiscount = item.quantity >= 10 ? Math.floor((lineSubtotal * 5) / 100) : 0;
        subtotal += lineSubtotal;
        bulk += lineDiscount;
        lines.push({
          sku: item.sku,
          name: row.name,
          quantity: item.quantity,
          unitPriceCents: price,
          discountCents: lineDiscount,
          totalCents: lineSubtotal - lineDiscount,
        });
      }
      const afterBulk = subtotal - bulk;
      let couponDiscount = 0;
      if (percentOff > 0) couponDiscount = Math.floor((afterBulk * percentOff) / 100);
      if (amountOffCents > 0) couponDiscount = Math.min(amountOffCents, afterBulk);
      const shipping = subtotal >= 5000 ? 0 : 499;
      const quote: Quote = {
        lines,
        subtotalCents: subtotal,
        discountCents: bulk + couponDiscount,
        shippingCents: shipping,
        totalCents: afterBulk - couponDiscount + shipping,
      };

      for (const item of items) {
        await client.query("UPDATE products SET stock = stock - $2 WHERE sku = $1", [item.sku, item.quantity]);
      }
      const createdAt = new Date(deps.clock.now());
      const inserted = await client.query(
        "INSERT INTO orders (customer_id, total_cents, created_at, lines) VALUES ($1, $2, $3, $4) RETURNING id",
        [body.customerId, quote.totalCents, createdAt, JSON.stringify(quote.lines)],
      );
      await client.query("COMMIT");

      const orderId = String(inserted.rows[0].id);
      res
        .status(201)
        .location(`/orders/${orderId}`)
        .json({ orderId, customerId: body.customerId, ...quote, createdAt: createdAt.toISOString() });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      deps.report(error);
      res.status(500).json({ error: "internal error" });
    } finally {
      client.release();
    }
  });

  return app;
}
