/**
 * untangle-legacy: split a working, tangled checkout handler into layers without changing
 * what it does.
 *
 * 1. Characterization tests pin the endpoint's HTTP behaviour as it is today, quirks included.
 *    They pass on the tangled code and must keep passing after every step of the refactoring.
 * 2. Domain tests call the pure rules directly: no HTTP, no database, no clock.
 * 3. Architecture tests read your files' import graph and strings: the domain reaches neither
 *    express nor pg, the service reaches no express, SQL lives only in the store, and app.ts
 *    only wires the layers together.
 *
 * The database is a fake that speaks the legacy handler's five statements (whitespace and
 * case may change, nothing else) and keeps transactions: BEGIN takes a snapshot, ROLLBACK
 * restores it. Like pg, it returns bigint columns (price_cents) as strings.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import { directImports, localFilesReached, packagesImportedDirectly, packagesReached } from "#fixtures/import-graph";
import { kataPath } from "#fixtures/target";
import { type CheckoutDeps, createCheckoutApp } from "../src/checkout/app";
import {
  type CartLine,
  CheckoutRejected,
  checkAvailability,
  parseCoupon,
  priceCart,
  type Product,
} from "../src/checkout/domain";

// ----- the fake database ---------------------------------------------------------------------

interface StoredOrder {
  id: number;
  customerId: unknown;
  totalCents: unknown;
  createdAt: unknown;
  lines: unknown;
}

/** A product row the fake can update in place. */
type ProductRow = { -readonly [K in keyof Product]: Product[K] };

interface FakeState {
  products: Map<string, ProductRow>;
  orders: StoredOrder[];
  nextOrderId: number;
}

const CATALOG: Product[] = [
  { sku: "KB-101", name: "Keyboard", priceCents: 4_999, stock: 20 },
  { sku: "MOUSE-7", name: "Mouse", priceCents: 1_999, stock: 5 },
  { sku: "CABLE-1", name: "USB-C cable", priceCents: 250, stock: 100 },
  { sku: "SOCK-3", name: "Socks", priceCents: 333, stock: 50 },
  { sku: "PEN-1", name: "Pen", priceCents: 1, stock: 100 },
];

const copyState = (state: FakeState): FakeState => ({
  products: new Map([...state.products].map(([sku, product]) => [sku, { ...product }])),
  orders: state.orders.map((order) => ({ ...order })),
  nextOrderId: state.nextOrderId,
});

const STATEMENTS = {
  begin: /^BEGIN$/i,
  commit: /^COMMIT$/i,
  rollback: /^ROLLBACK$/i,
  select: /^SELECT sku, name, price_cents, stock FROM products WHERE sku = ANY\(\$1\)( FOR UPDATE)?$/i,
  update: /^UPDATE products SET stock = stock - \$2 WHERE sku = \$1$/i,
  insert:
    /^INSERT INTO orders \(customer_id, total_cents, created_at, lines\) VALUES \(\$1, \$2, \$3, \$4\) RETURNING id$/i,
};
type Statement = keyof typeof STATEMENTS;

function fakeDatabase(options: { failOn?: Statement } = {}) {
  let state: FakeState = { products: new Map(CATALOG.map((p) => [p.sku, { ...p }])), orders: [], nextOrderId: 1 };
  const log: { client: number; statement: Statement; sql: string }[] = [];
  const unsupported: string[] = [];
  let clients = 0;
  let open = 0;
  let doubleReleases = 0;

  const connect = async () => {
    const id = ++clients;
    open++;
    let snapshot: FakeState | undefined;
    let released = false;
    const query = async (text: string, params: unknown[] = []) => {
      if (released) throw new Error("the fake database: query on a client that was already released");
      const sql = String(text).replace(/\s+/g, " ").trim().replace(/;$/, "");
      const statement = (Object.keys(STATEMENTS) as Statement[]).find((name) => STATEMENTS[name].test(sql));
      if (!statement) {
        unsupported.push(sql);
        throw new Error(`the fake database does not understand: ${sql}`);
      }
      log.push({ client: id, statement, sql });
      if (options.failOn === statement) {
        throw Object.assign(new Error(`could not write block 7 of relation "orders": ${sql}`), { code: "58030" });
      }
      switch (statement) {
        case "begin":
          snapshot = copyState(state);
          return { rows: [], rowCount: null };
        case "commit":
          snapshot = undefined;
          return { rows: [], rowCount: null };
        case "rollback":
          if (snapshot) state = snapshot;
          snapshot = undefined;
          return { rows: [], rowCount: null };
        case "select": {
          const rows = (params[0] as string[])
            .map((sku) => state.products.get(sku))
            .filter((p): p is Product => p !== undefined)
            .map((p) => ({ sku: p.sku, name: p.name, price_cents: String(p.priceCents), stock: p.stock }));
          return { rows, rowCount: rows.length };
        }
        case "update": {
          const product = state.products.get(params[0] as string);
          if (product) product.stock -= params[1] as number;
          return { rows: [], rowCount: product ? 1 : 0 };
        }
        case "insert": {
          const [customerId, totalCents, createdAt, lines] = params;
          const order = {
            id: state.nextOrderId++,
            customerId,
            totalCents,
            createdAt,
            lines: typeof lines === "string" ? JSON.parse(lines) : lines,
          };
          state.orders.push(order);
          // A bigserial id: pg returns int8 as a string.
          return { rows: [{ id: String(order.id) }], rowCount: 1 };
        }
      }
    };
    const release = () => {
      if (released) doubleReleases++;
      else open--;
      released = true;
    };
    return { query, release };
  };

  return {
    // The fake has only what the checkout uses of a pg Pool: connect(), query() and release().
    db: { connect } as unknown as CheckoutDeps["db"],
    stock: (sku: string) => state.products.get(sku)!.stock,
    orders: () => state.orders,
    statements: () => log.map((entry) => entry.statement),
    log: () => log,
    unsupported: () => unsupported,
    openClients: () => open,
    doubleReleases: () => doubleReleases,
  };
}

function checkoutHarness(options: { failOn?: Statement } = {}) {
  const database = fakeDatabase(options);
  const clock = manualClock(Date.UTC(2026, 4, 17, 10, 15, 30, 250));
  const reported: unknown[] = [];
  const app = createCheckoutApp({ db: database.db, clock, report: (error) => reported.push(error) });
  const checkout = async (body: unknown) => {
    const res = await request(app)
      .post("/checkout")
      .send(body as object);
    expect(
      database.unsupported(),
      "every statement must be one the legacy handler sends (see the header of this file)",
    ).toEqual([]);
    return res;
  };
  return { app, database, clock, reported, checkout };
}

const line = (sku: string, name: string, quantity: number, unitPriceCents: number, discountCents = 0) => ({
  sku,
  name,
  quantity,
  unitPriceCents,
  discountCents,
  totalCents: quantity * unitPriceCents - discountCents,
});

// ----- 1. characterization -------------------------------------------------------------------

describe("characterization: POST /checkout", () => {
  it("charges list price plus 4.99 shipping for a small cart, answering 201 with the receipt and a Location", async () => {
    const { checkout, clock } = checkoutHarness();
    const res = await checkout({
      customerId: "cus-42",
      items: [
        { sku: "MOUSE-7", quantity: 1 },
        { sku: "CABLE-1", quantity: 2 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.location).toBe("/orders/1");
    expect(res.body).toStrictEqual({
      orderId: "1",
      customerId: "cus-42",
      lines: [line("MOUSE-7", "Mouse", 1, 1_999), line("CABLE-1", "USB-C cable", 2, 250)],
      subtotalCents: 2_499,
      discountCents: 0,
      shippingCents: 499,
      totalCents: 2_998,
      createdAt: new Date(clock.now()).toISOString(),
    });
  });

  it("takes 5% off a line of ten or more, rounded down to the cent, and nothing off a line of nine", async () => {
    const { checkout } = checkoutHarness();
    const res = await checkout({
      customerId: "cus-42",
      items: [
        { sku: "SOCK-3", quantity: 10 },
        { sku: "CABLE-1", quantity: 9 },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.lines, "10 × 3.33 = 33.30, 5% of it is 1.665, rounded down to 1.66").toStrictEqual([
      line("SOCK-3", "Socks", 10, 333, 166),
      line("CABLE-1", "USB-C cable", 9, 250),
    ]);
    expect([res.body.subtotalCents, res.body.discountCents, res.body.shippingCents, res.body.totalCents]).toEqual([
      5_580, 166, 0, 5_414,
    ]);
  });

  it("ships free from a subtotal of exactly 50.00, judged before discounts, and charges shipping at 49.99", async () => {
    const { checkout } = checkoutHarness();
    const free = await checkout({
      customerId: "cus-42",
      items: [
        { sku: "KB-101", quantity: 1 },
        { sku: "PEN-1", quantity: 1 },
      ],
      coupon: "SAVE10",
    });
    expect(free.body.shippingCents, "the coupon takes the goods below 50.00, but the rule looks at the subtotal").toBe(
      0,
    );
    expect([free.body.subtotalCents, free.body.discountCents, free.body.totalCents]).toEqual([5_000, 500, 4_500]);
    const paid = await checkout({ customerId: "cus-42", items: [{ sku: "KB-101", quantity: 1 }] });
    expect([paid.body.shippingCents, paid.body.totalCents]).toEqual([499, 5_498]);
  });

  it("applies SAVE10 to what is left after bulk discounts, rounded down, whatever the case or spacing of the code", async () => {
    const { checkout } = checkoutHarness();
    const res = await checkout({ customerId: "cus-42", items: [{ sku: "SOCK-3", quantity: 10 }], coupon: "  save10 " });
    expect(res.status).toBe(201);
    // 33.30 − 1.66 bulk = 31.64; 10% of that is 3.164, rounded down to 3.16; shipping 4.99.
    expect([res.body.subtotalCents, res.body.discountCents, res.body.shippingCents, res.body.totalCents]).toEqual([
      3_330, 482, 499, 3_347,
    ]);
  });

  it("caps WELCOME5 at the price of the goods, so only shipping is left to pay", async () => {
    const { checkout } = checkoutHarness();
    const res = await checkout({ customerId: "cus-42", items: [{ sku: "CABLE-1", quantity: 1 }], coupon: "WELCOME5" });
    expect([res.body.subtotalCents, res.body.discountCents, res.body.shippingCents, res.body.totalCents]).toEqual([
      250, 250, 499, 499,
    ]);
  });

  it("refuses an unknown coupon with 422 and the code as typed, before touching the database", async () => {
    const { checkout, database } = checkoutHarness();
    const res = await checkout({ customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 1 }], coupon: " Bogus" });
    expect(res.status).toBe(422);
    expect(res.body).toStrictEqual({ error: "unknown coupon  Bogus" });
    expect(database.statements()).toEqual([]);
  });

  it.each([
    ["an empty body", {}, "customerId is required"],
    ["a blank customerId", { customerId: "  ", items: [{ sku: "MOUSE-7", quantity: 1 }] }, "customerId is required"],
    ["no items", { customerId: "cus-42" }, "items must be a non-empty array"],
    ["an empty items list", { customerId: "cus-42", items: [] }, "items must be a non-empty array"],
    ["an item without a sku", { customerId: "cus-42", items: [{ quantity: 1 }] }, "every item needs a sku"],
    ["an empty sku", { customerId: "cus-42", items: [{ sku: "", quantity: 1 }] }, "every item needs a sku"],
    ["a null item", { customerId: "cus-42", items: [null] }, "every item needs a sku"],
    [
      "a quantity of 0",
      { customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 0 }] },
      "quantity of MOUSE-7 must be a whole number from 1 to 99",
    ],
    [
      "a quantity of 100",
      { customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 100 }] },
      "quantity of MOUSE-7 must be a whole number from 1 to 99",
    ],
    [
      "a fractional quantity",
      { customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 1.5 }] },
      "quantity of MOUSE-7 must be a whole number from 1 to 99",
    ],
    [
      "a quantity as a string",
      { customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: "1" }] },
      "quantity of MOUSE-7 must be a whole number from 1 to 99",
    ],
    [
      "a sku listed twice",
      {
        customerId: "cus-42",
        items: [
          { sku: "MOUSE-7", quantity: 1 },
          { sku: "MOUSE-7", quantity: 2 },
        ],
      },
      "MOUSE-7 appears twice",
    ],
    [
      "a coupon that is not a string",
      { customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 1 }], coupon: 10 },
      "coupon must be a string",
    ],
    ["two problems at once", { customerId: "", items: [] }, "customerId is required"],
  ])("answers 400 with the legacy message to %s, without touching the database", async (_label, body, message) => {
    const { checkout, database } = checkoutHarness();
    const res = await checkout(body);
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual({ error: message });
    expect(database.statements()).toEqual([]);
  });

  it("answers 400 to a body that is not JSON", async () => {
    const { app, database } = checkoutHarness();
    const res = await request(app).post("/checkout").set("Content-Type", "application/json").send('{"customerId": ');
    expect(res.status).toBe(400);
    expect(database.statements()).toEqual([]);
  });

  it("refuses an unknown sku with 422 inside the transaction, and rolls it back", async () => {
    const { checkout, database } = checkoutHarness();
    const res = await checkout({
      customerId: "cus-42",
      items: [
        { sku: "MOUSE-7", quantity: 1 },
        { sku: "NOPE-1", quantity: 1 },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body).toStrictEqual({ error: "unknown sku NOPE-1" });
    expect(database.statements()).toEqual(["begin", "select", "rollback"]);
    expect(database.stock("MOUSE-7")).toBe(5);
  });

  it("refuses more than the stock with 409, saying how many are left, and rolls back", async () => {
    const { checkout, database } = checkoutHarness();
    const res = await checkout({
      customerId: "cus-42",
      items: [
        { sku: "CABLE-1", quantity: 1 },
        { sku: "MOUSE-7", quantity: 6 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body).toStrictEqual({ error: "only 5 of MOUSE-7 left" });
    expect(database.statements()).toEqual(["begin", "select", "rollback"]);
    expect(database.orders()).toEqual([]);
  });

  it("sells the very last unit", async () => {
    const { checkout, database } = checkoutHarness();
    const res = await checkout({ customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 5 }] });
    expect(res.status).toBe(201);
    expect(database.stock("MOUSE-7")).toBe(0);
  });

  it("accepts the largest quantity per line, 99", async () => {
    const { checkout, database } = checkoutHarness();
    const res = await checkout({ customerId: "cus-42", items: [{ sku: "PEN-1", quantity: 99 }] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(database.stock("PEN-1")).toBe(1);
  });

  it("judges the items in cart order: the first that fails decides the answer", async () => {
    const first = checkoutHarness();
    const short = await first.checkout({
      customerId: "cus-42",
      items: [
        { sku: "MOUSE-7", quantity: 6 },
        { sku: "NOPE-1", quantity: 1 },
      ],
    });
    expect([short.status, short.body.error]).toEqual([409, "only 5 of MOUSE-7 left"]);
    const second = checkoutHarness();
    const unknown = await second.checkout({
      customerId: "cus-42",
      items: [
        { sku: "NOPE-1", quantity: 1 },
        { sku: "MOUSE-7", quantity: 6 },
      ],
    });
    expect([unknown.status, unknown.body.error]).toEqual([422, "unknown sku NOPE-1"]);
  });

  it("locks the products FOR UPDATE, decrements stock and records the order in one transaction on one client", async () => {
    const { checkout, database, clock } = checkoutHarness();
    const res = await checkout({
      customerId: "cus-42",
      items: [
        { sku: "KB-101", quantity: 2 },
        { sku: "CABLE-1", quantity: 3 },
      ],
    });
    expect(res.status).toBe(201);
    expect(database.statements()).toEqual(["begin", "select", "update", "update", "insert", "commit"]);
    expect(
      new Set(database.log().map((entry) => entry.client)).size,
      "a transaction only exists on one connection",
    ).toBe(1);
    expect(database.log()[1]!.sql, "without FOR UPDATE two checkouts can both sell the last unit").toMatch(
      /FOR UPDATE$/i,
    );
    expect([database.stock("KB-101"), database.stock("CABLE-1")]).toEqual([18, 97]);
    expect(database.orders()).toStrictEqual([
      {
        id: 1,
        customerId: "cus-42",
        totalCents: res.body.totalCents,
        createdAt: new Date(clock.now()),
        lines: res.body.lines,
      },
    ]);
  });

  it("gives every order its own id", async () => {
    const { checkout } = checkoutHarness();
    const body = { customerId: "cus-42", items: [{ sku: "PEN-1", quantity: 1 }] };
    const ids = [(await checkout(body)).body.orderId, (await checkout(body)).body.orderId];
    expect(ids).toEqual(["1", "2"]);
  });

  it("answers 500 { error: 'internal error' } when the database fails, reports the error, and rolls back", async () => {
    const { checkout, database, reported } = checkoutHarness({ failOn: "insert" });
    const res = await checkout({ customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 2 }] });
    expect(res.status).toBe(500);
    expect(res.body, "the client learns nothing about the database").toStrictEqual({ error: "internal error" });
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toMatch(/could not write block 7/);
    expect(database.statements()).toEqual(["begin", "select", "update", "insert", "rollback"]);
    expect(database.stock("MOUSE-7"), "the decrement before the failed insert is rolled back").toBe(5);
  });

  it("returns the database client on every path, exactly once", async () => {
    const { checkout, database } = checkoutHarness();
    await checkout({ customerId: "cus-42", items: [{ sku: "PEN-1", quantity: 1 }] });
    await checkout({ customerId: "cus-42", items: [{ sku: "NOPE-1", quantity: 1 }] });
    await checkout({ customerId: "cus-42", items: [{ sku: "MOUSE-7", quantity: 50 }] });
    const failing = checkoutHarness({ failOn: "select" });
    await failing.checkout({ customerId: "cus-42", items: [{ sku: "PEN-1", quantity: 1 }] });
    expect([database.openClients(), failing.database.openClients()], "a client never released drains the pool").toEqual(
      [0, 0],
    );
    expect(database.doubleReleases() + failing.database.doubleReleases(), "releasing twice corrupts pg's pool").toBe(0);
  });
});

// ----- 2. the domain, called directly ---------------------------------------------------------

const product = (sku: string, priceCents: number, stock = 100): Product => ({
  sku,
  name: `Product ${sku}`,
  priceCents,
  stock,
});
const cart = (...lines: [Product, number][]): CartLine[] => lines.map(([p, quantity]) => ({ product: p, quantity }));

function rejectionOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a CheckoutRejected, but nothing was thrown");
}

describe("domain: the checkout rules as pure functions", () => {
  it("prices a small cart at list price plus 4.99 shipping", () => {
    const quote = priceCart(cart([product("A", 1_999), 1], [product("B", 250), 2]), undefined);
    expect(quote).toStrictEqual({
      lines: [
        { sku: "A", name: "Product A", quantity: 1, unitPriceCents: 1_999, discountCents: 0, totalCents: 1_999 },
        { sku: "B", name: "Product B", quantity: 2, unitPriceCents: 250, discountCents: 0, totalCents: 500 },
      ],
      subtotalCents: 2_499,
      discountCents: 0,
      shippingCents: 499,
      totalCents: 2_998,
    });
  });

  it("takes 5% off a line from 10 units, rounded down to the cent, and nothing at 9", () => {
    const quote = priceCart(
      cart([product("A", 333), 10], [product("B", 333), 9], [product("C", 1_000), 10]),
      undefined,
    );
    expect(
      quote.lines.map((l) => l.discountCents),
      "1.665 → 1.66 at 10 units; none at 9; exactly 5.00 on 100.00",
    ).toEqual([166, 0, 500]);
    expect(quote.lines.map((l) => l.totalCents)).toEqual([3_164, 2_997, 9_500]);
    expect(quote.discountCents).toBe(666);
  });

  it("ships free from a subtotal of exactly 50.00, before discounts, and charges 4.99 at 49.99", () => {
    expect(priceCart(cart([product("A", 5_000), 1]), undefined).shippingCents).toBe(0);
    expect(priceCart(cart([product("A", 4_999), 1]), undefined).shippingCents).toBe(499);
    const discounted = priceCart(cart([product("A", 500), 10]), { kind: "percent", percent: 10 });
    expect(discounted.shippingCents, "5 000 before discounts ships free even though the goods then cost 42.75").toBe(0);
    expect(discounted.totalCents).toBe(4_275);
  });

  it("applies a percentage coupon to what is left after bulk discounts, rounded down", () => {
    const quote = priceCart(cart([product("A", 333), 10]), { kind: "percent", percent: 10 });
    expect([quote.subtotalCents, quote.discountCents, quote.shippingCents, quote.totalCents]).toEqual([
      3_330, 482, 499, 3_347,
    ]);
  });

  it("takes an amount coupon in full when the goods cost more, and caps it at their price otherwise", () => {
    const full = priceCart(cart([product("A", 1_999), 1]), { kind: "amount", amountCents: 500 });
    expect([full.discountCents, full.totalCents]).toEqual([500, 1_999 - 500 + 499]);
    const capped = priceCart(cart([product("A", 250), 1]), { kind: "amount", amountCents: 500 });
    expect([capped.discountCents, capped.totalCents], "a coupon makes goods free; it never pays the customer").toEqual([
      250, 499,
    ]);
    const exact = priceCart(cart([product("A", 500), 1]), { kind: "amount", amountCents: 500 });
    expect([exact.discountCents, exact.totalCents]).toEqual([500, 499]);
  });

  it("stays exact in integer cents for large amounts", () => {
    const quote = priceCart(cart([product("A", 99_999_999), 99]), undefined);
    expect(quote.subtotalCents).toBe(9_899_999_901);
    expect(quote.discountCents).toBe(494_999_995);
    expect(quote.totalCents).toBe(9_404_999_906);
  });

  it("leaves its inputs untouched", () => {
    const lines = Object.freeze(
      cart([product("A", 333), 10]).map((l) => Object.freeze({ ...l, product: Object.freeze(l.product) })),
    );
    const coupon = Object.freeze({ kind: "percent", percent: 10 } as const);
    expect(() => priceCart(lines, coupon), "a pure function reads its arguments and returns a new value").not.toThrow();
  });

  it("recognises SAVE10 and WELCOME5 whatever their case and surrounding spaces, and no code as no coupon", () => {
    expect(parseCoupon("SAVE10")).toEqual({ kind: "percent", percent: 10 });
    expect(parseCoupon(" save10\t")).toEqual({ kind: "percent", percent: 10 });
    expect(parseCoupon("Welcome5")).toEqual({ kind: "amount", amountCents: 500 });
    expect(parseCoupon(undefined)).toBeUndefined();
  });

  it.each(["SAVE20", "", "SAVE 10", "WELCOME", "constructor", "__proto__"])(
    "refuses the coupon code %j as unknown-coupon, quoting it as typed",
    (code) => {
      const error = rejectionOf(() => parseCoupon(code));
      expect(error).toBeInstanceOf(CheckoutRejected);
      expect([(error as CheckoutRejected).reason, (error as CheckoutRejected).message]).toEqual([
        "unknown-coupon",
        `unknown coupon ${code}`,
      ]);
    },
  );

  it("accepts a cart whose every item is sold and in stock, down to the last unit", () => {
    const products = new Map([
      ["A", product("A", 100, 3)],
      ["B", product("B", 100, 1)],
    ]);
    expect(() =>
      checkAvailability(
        [
          { sku: "A", quantity: 3 },
          { sku: "B", quantity: 1 },
        ],
        products,
      ),
    ).not.toThrow();
  });

  it("refuses the first item in cart order that is unknown or short of stock", () => {
    const products = new Map([["A", product("A", 100, 3)]]);
    const short = rejectionOf(() =>
      checkAvailability(
        [
          { sku: "A", quantity: 4 },
          { sku: "Z", quantity: 1 },
        ],
        products,
      ),
    ) as CheckoutRejected;
    expect(short).toBeInstanceOf(CheckoutRejected);
    expect([short.reason, short.message]).toEqual(["out-of-stock", "only 3 of A left"]);
    const unknown = rejectionOf(() =>
      checkAvailability(
        [
          { sku: "Z", quantity: 1 },
          { sku: "A", quantity: 4 },
        ],
        products,
      ),
    ) as CheckoutRejected;
    expect([unknown.reason, unknown.message]).toEqual(["unknown-sku", "unknown sku Z"]);
  });
});

// ----- 3. architecture -----------------------------------------------------------------------

const checkoutFile = (name: string) => kataPath(import.meta.url, `../src/checkout/${name}.ts`);
const LAYERS = ["app", "domain", "http", "service", "store"] as const;

describe("architecture: the dependency rule, read from your files", () => {
  it("keeps the domain free of express and pg, even through a type import or another module", () => {
    const reached = packagesReached(checkoutFile("domain"));
    for (const forbidden of ["express", "pg"]) {
      expect(
        reached.get(forbidden)?.join(" → "),
        `the domain reaches ${forbidden} through the chain shown. Even a type import ties the rules to that library's ` +
          "vocabulary: they can no longer be read, tested or reused without it",
      ).toBeUndefined();
    }
  });

  it("keeps the domain at the centre: it imports none of the other checkout modules", () => {
    const others = LAYERS.filter((layer) => layer !== "domain").map(checkoutFile);
    const imported = localFilesReached(checkoutFile("domain")).filter((file) => others.includes(file));
    expect(
      imported.map((file) => path.basename(file)),
      "dependencies point inward: http → service → domain, store → service. A domain that imports an outer layer has no centre",
    ).toEqual([]);
  });

  it("keeps the service free of express, even through another module", () => {
    const chain = packagesReached(checkoutFile("service")).get("express");
    expect(
      chain?.join(" → "),
      "a use case that knows HTTP can only be run by HTTP: not by a queue consumer, a CLI or a plain unit test",
    ).toBeUndefined();
  });

  it("keeps SQL in the store: no other checkout file has a SQL statement in its strings", () => {
    const offenders = LAYERS.filter((layer) => layer !== "store").flatMap((layer) =>
      sqlStrings(checkoutFile(layer)).map((sql) => `${layer}.ts: ${sql.slice(0, 60)}`),
    );
    expect(offenders, "SQL outside the adapter means the storage choice leaks into every layer that holds it").toEqual(
      [],
    );
    expect(sqlStrings(checkoutFile("store")).length, "the store holds the checkout's SQL").toBeGreaterThan(0);
  });

  it("makes app.ts the composition root: it serves the checkout through http.ts, and http.ts does not talk to the database", () => {
    const direct = directImports(checkoutFile("app"));
    expect(direct, "app.ts builds the layers and mounts the router of http.ts").toContain(checkoutFile("http"));
    expect(
      packagesImportedDirectly(checkoutFile("http")),
      "the http layer reaches the database only through the service",
    ).not.toContain("pg");
  });
});

// ----- import graph and SQL reading ------------------------------------------------------------

const SQL =
  /\bselect\b[\s\S]*\bfrom\b|\binsert\s+into\b|\bupdate\s+\w+\s+set\b|\bdelete\s+from\b|^\s*(begin|commit|rollback)\s*;?\s*$/i;

/** The string and template literals of a file that read as SQL (comments are not strings). */
function sqlStrings(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      if (SQL.test(node.text)) found.push(node.text.replace(/\s+/g, " ").trim());
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
