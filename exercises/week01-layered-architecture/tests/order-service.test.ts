/**
 * order-service: the business rules of placing, paying, shipping and cancelling orders, run
 * on plain in-memory ports. No database, no HTTP: if a rule needs either to be tested, it is
 * in the wrong layer.
 */
import { describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import { packagesReached } from "#fixtures/import-graph";
import { kataPath } from "#fixtures/target";
import { ConcurrencyError, DomainError, InvalidTransitionError, NotFoundError, ValidationError } from "../src/errors";
import { ORDER_LIMITS, type Order, type OrderStatus } from "../src/order";
import { OrderService } from "../src/order-service";
import type { Catalog, OrderRepository, PlaceOrderCommand } from "../src/ports";

const PRICES: Record<string, number> = { "KB-101": 4_999, "MOUSE-7": 1_999, "CABLE-1": 250 };

/** A repository test double with the port's version rules, which remembers every save. */
class FakeRepository implements OrderRepository {
  readonly stored = new Map<string, Order>();
  readonly saves: Order[] = [];

  async findById(id: string): Promise<Order | undefined> {
    const order = this.stored.get(id);
    return order && structuredClone(order);
  }

  async save(order: Order): Promise<Order> {
    this.saves.push(structuredClone(order));
    const current = this.stored.get(order.id);
    const stale = order.version === 0 ? current !== undefined : current?.version !== order.version;
    if (stale) throw new ConcurrencyError(order.id, order.version);
    const saved = { ...structuredClone(order), version: order.version + 1 };
    this.stored.set(order.id, saved);
    return structuredClone(saved);
  }

  /** Puts an order straight into storage, as if earlier requests had brought it there. */
  seed(status: OrderStatus, version = 3): Order {
    const order: Order = {
      id: `seeded-${status}`,
      customerId: "cus-1",
      status,
      lines: [{ sku: "KB-101", quantity: 1, unitPriceCents: 4_999 }],
      totalCents: 4_999,
      createdAt: new Date("2025-12-24T08:00:00.000Z"),
      updatedAt: new Date("2025-12-25T08:00:00.000Z"),
      version,
    };
    this.stored.set(order.id, order);
    return structuredClone(order);
  }
}

class FakeCatalog implements Catalog {
  readonly calls: string[][] = [];

  constructor(private readonly prices: Record<string, number>) {}

  async pricesOf(skus: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.calls.push([...skus]);
    return new Map(skus.filter((sku) => Object.hasOwn(this.prices, sku)).map((sku) => [sku, this.prices[sku]!]));
  }
}

function setup(prices: Record<string, number> = PRICES) {
  const clock = manualClock();
  const repository = new FakeRepository();
  const catalog = new FakeCatalog(prices);
  let issued = 0;
  const service = new OrderService({ repository, catalog, clock, newId: () => `order-${++issued}` });
  return { service, repository, catalog, clock };
}

async function rejectionOf(promise: Promise<unknown>, why = "the call resolved, but it must reject"): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(why);
}

/** The pointers of a ValidationError, sorted: the order of issues is not part of the contract. */
async function pointersOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await rejectionOf(
    promise,
    "placeOrder accepted a command that breaks a rule: it must reject with a ValidationError",
  );
  expect(error, "a rule broken by the input is reported as a ValidationError").toBeInstanceOf(ValidationError);
  const { issues } = error as ValidationError;
  for (const issue of issues) {
    expect(
      typeof issue.detail === "string" && issue.detail.trim().length > 0,
      `the issue at ${issue.pointer} says what is wrong`,
    ).toBe(true);
  }
  return issues.map((issue) => issue.pointer).sort();
}

const command = (lines: PlaceOrderCommand["lines"], customerId = "cus-42"): PlaceOrderCommand => ({
  customerId,
  lines,
});
const oneLine = (quantity: unknown, sku: unknown = "KB-101") =>
  command([{ sku, quantity } as { sku: string; quantity: number }]);

describe("placeOrder", () => {
  it("prices every line from the catalogue, keeps the customer's line order, and totals in integer cents", async () => {
    const { service } = setup();
    const order = await service.placeOrder(
      command([
        { sku: "KB-101", quantity: 2 },
        { sku: "CABLE-1", quantity: 3 },
        { sku: "MOUSE-7", quantity: 1 },
      ]),
    );
    expect(order.lines, "each line carries the catalogue's price, in the order the customer gave").toStrictEqual([
      { sku: "KB-101", quantity: 2, unitPriceCents: 4_999 },
      { sku: "CABLE-1", quantity: 3, unitPriceCents: 250 },
      { sku: "MOUSE-7", quantity: 1, unitPriceCents: 1_999 },
    ]);
    expect(order.totalCents, "2 × 49.99 + 3 × 2.50 + 19.99 = 127.47, counted in cents").toBe(12_747);
  });

  it("saves a new pending order at version 0, stamped with the clock's time and a fresh id, and returns what was stored", async () => {
    const { service, repository, clock } = setup();
    clock.set(Date.UTC(2026, 1, 3, 9, 30, 0, 123));
    const order = await service.placeOrder(command([{ sku: "MOUSE-7", quantity: 1 }], "cus-7"));

    expect(repository.saves, "one save per order placed").toHaveLength(1);
    expect(repository.saves[0]!.version, "version 0 tells the repository this order was never stored").toBe(0);
    const stamped = new Date(Date.UTC(2026, 1, 3, 9, 30, 0, 123));
    expect(order).toStrictEqual({
      id: "order-1",
      customerId: "cus-7",
      status: "pending",
      lines: [{ sku: "MOUSE-7", quantity: 1, unitPriceCents: 1_999 }],
      totalCents: 1_999,
      createdAt: stamped,
      updatedAt: stamped,
      version: 1,
    });
    expect(repository.stored.get("order-1"), "the order returned is the order stored").toStrictEqual(order);

    const second = await service.placeOrder(command([{ sku: "MOUSE-7", quantity: 1 }]));
    expect(second.id, "every order gets an id of its own from newId()").toBe("order-2");
  });

  it("asks the catalogue once for all the skus, not once per line", async () => {
    const { service, catalog } = setup();
    await service.placeOrder(
      command([
        { sku: "KB-101", quantity: 1 },
        { sku: "MOUSE-7", quantity: 1 },
        { sku: "CABLE-1", quantity: 1 },
      ]),
    );
    expect(catalog.calls.length, "one round trip per order: N lookups for N lines is the N+1 query problem").toBe(1);
    expect([...catalog.calls[0]!].sort()).toEqual(["CABLE-1", "KB-101", "MOUSE-7"]);
  });

  it("takes prices from the catalogue only, ignoring anything else an untyped caller slips into the command", async () => {
    const { service, repository } = setup();
    const sneaky = {
      customerId: "cus-1",
      status: "shipped",
      totalCents: 1,
      lines: [{ sku: "KB-101", quantity: 1, unitPriceCents: 1, discount: 4_998 }],
    } as unknown as PlaceOrderCommand;
    const order = await service.placeOrder(sneaky);
    expect(order.status, "a new order is pending whatever the caller says").toBe("pending");
    expect(
      repository.stored.get(order.id)!.lines,
      "stored lines hold exactly sku, quantity and the catalogue price",
    ).toStrictEqual([{ sku: "KB-101", quantity: 1, unitPriceCents: 4_999 }]);
    expect(order.totalCents).toBe(4_999);
  });

  it("accepts the limits themselves: quantity 1 and maxQuantity, maxLines lines, ids of maxIdLength characters", async () => {
    const prices: Record<string, number> = {};
    const lines = Array.from({ length: ORDER_LIMITS.maxLines }, (_, i) => {
      const sku = `SKU-${String(i).padStart(ORDER_LIMITS.maxIdLength - 4, "0")}`;
      prices[sku] = 100;
      return { sku, quantity: i === 0 ? 1 : ORDER_LIMITS.maxQuantity };
    });
    const { service } = setup(prices);
    const order = await service.placeOrder(command(lines, "c".repeat(ORDER_LIMITS.maxIdLength)));
    expect(order.lines).toHaveLength(ORDER_LIMITS.maxLines);
    expect(order.totalCents).toBe(100 * (1 + (ORDER_LIMITS.maxLines - 1) * ORDER_LIMITS.maxQuantity));
  });

  it("rejects an order without lines with a ValidationError at /lines, saving nothing and asking the catalogue nothing", async () => {
    const { service, repository, catalog } = setup();
    expect(await pointersOf(service.placeOrder(command([])))).toEqual(["/lines"]);
    expect(repository.saves, "a rejected order must not be stored").toHaveLength(0);
    expect(catalog.calls, "a malformed command must not cost a catalogue round trip").toHaveLength(0);
  });

  it("rejects a command whose lines are missing or not a list at /lines", async () => {
    const { service } = setup();
    for (const lines of [undefined, null, "KB-101", { 0: { sku: "KB-101", quantity: 1 } }]) {
      const malformed = { customerId: "cus-1", lines } as unknown as PlaceOrderCommand;
      expect(await pointersOf(service.placeOrder(malformed)), `lines = ${JSON.stringify(lines)}`).toEqual(["/lines"]);
    }
  });

  it.each([
    ["zero", 0],
    ["negative", -1],
    ["fractional", 1.5],
    ["NaN", Number.NaN],
    ["infinite", Number.POSITIVE_INFINITY],
    ["one above the limit", ORDER_LIMITS.maxQuantity + 1],
    ["a numeric string", "2"],
  ])("rejects a %s quantity at /lines/0/quantity", async (_label, quantity) => {
    const { service, repository } = setup();
    expect(await pointersOf(service.placeOrder(oneLine(quantity)))).toEqual(["/lines/0/quantity"]);
    expect(repository.saves).toHaveLength(0);
  });

  it("rejects a line that is not an object with an issue at its index, alongside the other problems", async () => {
    const { service, catalog } = setup();
    const malformed = {
      customerId: "cus-1",
      lines: [{ sku: "KB-101", quantity: 1 }, null, "CABLE-1", { sku: "", quantity: 1 }],
    } as unknown as PlaceOrderCommand;
    expect(
      await pointersOf(service.placeOrder(malformed)),
      "a queue consumer's JSON can hold anything: a null line is a validation issue, not a TypeError that becomes a 500",
    ).toEqual(["/lines/1", "/lines/2", "/lines/3/sku"]);
    expect(catalog.calls).toHaveLength(0);
  });

  it("rejects one line more than maxLines at /lines", async () => {
    const prices: Record<string, number> = {};
    const lines = Array.from({ length: ORDER_LIMITS.maxLines + 1 }, (_, i) => {
      prices[`SKU-${i}`] = 100;
      return { sku: `SKU-${i}`, quantity: 1 };
    });
    const { service } = setup(prices);
    expect(await pointersOf(service.placeOrder(command(lines)))).toEqual(["/lines"]);
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["one character too long", "c".repeat(ORDER_LIMITS.maxIdLength + 1)],
    ["missing", undefined],
    ["not a string", 42],
  ])("rejects a customer id that is %s at /customerId", async (_label, customerId) => {
    const { service } = setup();
    const malformed = { customerId, lines: [{ sku: "KB-101", quantity: 1 }] } as unknown as PlaceOrderCommand;
    expect(await pointersOf(service.placeOrder(malformed))).toEqual(["/customerId"]);
  });

  it.each([
    ["empty", ""],
    ["blank", " \t "],
    ["one character too long", "S".repeat(ORDER_LIMITS.maxIdLength + 1)],
    ["not a string", 7],
  ])("rejects a sku that is %s at /lines/0/sku", async (_label, sku) => {
    const { service } = setup();
    expect(await pointersOf(service.placeOrder(oneLine(1, sku)))).toEqual(["/lines/0/sku"]);
  });

  it("rejects a sku repeated on a later line, pointing at the repeat", async () => {
    const { service } = setup();
    const repeated = command([
      { sku: "KB-101", quantity: 1 },
      { sku: "CABLE-1", quantity: 1 },
      { sku: "KB-101", quantity: 2 },
    ]);
    expect(
      await pointersOf(service.placeOrder(repeated)),
      "two lines for one sku make totals and stock ambiguous",
    ).toEqual(["/lines/2/sku"]);
  });

  it("reports every problem of the command at once, not just the first", async () => {
    const { service } = setup();
    const bad = command(
      [
        { sku: "KB-101", quantity: 0 },
        { sku: "", quantity: 1 },
        { sku: "KB-101", quantity: 1.5 },
      ],
      " ",
    );
    expect(
      await pointersOf(service.placeOrder(bad)),
      "a client fixes everything in one round trip only if told everything",
    ).toEqual(["/customerId", "/lines/0/quantity", "/lines/1/sku", "/lines/2/quantity", "/lines/2/sku"]);
  });

  it("rejects skus the catalogue does not sell, one issue per line, and stores nothing", async () => {
    const { service, repository } = setup();
    const unknown = command([
      { sku: "KB-101", quantity: 1 },
      { sku: "GONE-1", quantity: 1 },
      { sku: "GONE-2", quantity: 1 },
    ]);
    expect(await pointersOf(service.placeOrder(unknown))).toEqual(["/lines/1/sku", "/lines/2/sku"]);
    expect(repository.saves).toHaveLength(0);
  });

  it("charges a total of exactly Number.MAX_SAFE_INTEGER cents, and rejects one cent more at /lines", async () => {
    const { service } = setup({ MAX: Number.MAX_SAFE_INTEGER, HALF: 2 ** 52 });
    const largest = await service.placeOrder(oneLine(1, "MAX"));
    expect(largest.totalCents, "the largest total a JS number holds exactly").toBe(Number.MAX_SAFE_INTEGER);
    expect(
      await pointersOf(service.placeOrder(oneLine(2, "HALF"))),
      "2 × 2^52 = 2^53 is past the safe range: the total could no longer be trusted to the cent",
    ).toEqual(["/lines"]);
  });

  it("raises ValidationError as a DomainError with the stable code VALIDATION_FAILED", async () => {
    const { service } = setup();
    const error = await rejectionOf(service.placeOrder(command([])));
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code, "clients branch on the code, never on the message").toBe("VALIDATION_FAILED");
  });
});

describe("getOrder", () => {
  it("returns the stored order", async () => {
    const { service, repository } = setup();
    const seeded = repository.seed("paid");
    expect(await service.getOrder(seeded.id)).toStrictEqual(seeded);
  });

  it("raises NotFoundError with the code ORDER_NOT_FOUND and the id when no order has it", async () => {
    const { service } = setup();
    const error = await rejectionOf(
      service.getOrder("order-404"),
      "getOrder resolved for an id no order has: it must reject with NotFoundError",
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe("ORDER_NOT_FOUND");
    expect((error as NotFoundError).orderId).toBe("order-404");
  });
});

type Move = "cancelOrder" | "payOrder" | "shipOrder";
const TARGET: Record<Move, OrderStatus> = { cancelOrder: "cancelled", payOrder: "paid", shipOrder: "shipped" };

describe("order life cycle: cancelOrder, payOrder and shipOrder", () => {
  it("cancels a pending order: status cancelled, updatedAt now, everything else kept, version one higher", async () => {
    const { service, repository, clock } = setup();
    const placed = await service.placeOrder(command([{ sku: "KB-101", quantity: 2 }]));
    clock.advance(90_000);
    const cancelled = await service.cancelOrder(placed.id);
    expect(cancelled).toStrictEqual({
      ...placed,
      status: "cancelled",
      updatedAt: new Date(clock.now()),
      version: placed.version + 1,
    });
    expect(repository.stored.get(placed.id)).toStrictEqual(cancelled);
  });

  it.each([
    ["pending", "cancelOrder"],
    ["pending", "payOrder"],
    ["paid", "shipOrder"],
  ] as const)("moves a %s order with %s", async (from, move) => {
    const { service, repository, clock } = setup();
    const seeded = repository.seed(from);
    const moved = await service[move](seeded.id);
    expect(moved.status).toBe(TARGET[move]);
    expect(moved.updatedAt, "updatedAt records when the move happened").toEqual(new Date(clock.now()));
    expect(moved.createdAt, "createdAt never changes").toEqual(seeded.createdAt);
    expect(
      repository.saves[0]!.version,
      "the changed copy is saved at the version it was read, so a concurrent change is detected",
    ).toBe(seeded.version);
  });

  it.each([
    ["paid", "cancelOrder"],
    ["shipped", "cancelOrder"],
    ["cancelled", "cancelOrder"],
    ["paid", "payOrder"],
    ["shipped", "payOrder"],
    ["cancelled", "payOrder"],
    ["pending", "shipOrder"],
    ["shipped", "shipOrder"],
    ["cancelled", "shipOrder"],
  ] as const)("refuses to move a %s order with %s: InvalidTransitionError, nothing saved", async (from, move) => {
    const { service, repository } = setup();
    const seeded = repository.seed(from);
    const error = await rejectionOf(
      service[move](seeded.id),
      `${move} moved a ${from} order, which the life cycle forbids: it must reject with InvalidTransitionError`,
    );
    expect(error).toBeInstanceOf(InvalidTransitionError);
    const transition = error as InvalidTransitionError;
    expect({ code: transition.code, orderId: transition.orderId, from: transition.from, to: transition.to }).toEqual({
      code: "INVALID_TRANSITION",
      orderId: seeded.id,
      from,
      to: TARGET[move],
    });
    expect(repository.saves, "a refused move must not write").toHaveLength(0);
    expect(repository.stored.get(seeded.id)).toStrictEqual(seeded);
  });

  it.each(["cancelOrder", "payOrder", "shipOrder"] as const)(
    "raises NotFoundError from %s for an unknown id",
    async (move) => {
      const { service } = setup();
      const error = await rejectionOf(
        service[move]("order-404"),
        `${move} resolved for an id no order has: it must reject with NotFoundError`,
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).orderId).toBe("order-404");
    },
  );

  it("lets the repository's ConcurrencyError through unchanged when someone else saved first", async () => {
    const { service, repository } = setup();
    const seeded = repository.seed("pending");
    const conflict = new ConcurrencyError(seeded.id, seeded.version);
    repository.save = async () => {
      throw conflict;
    };
    const outcome = rejectionOf(
      service.cancelOrder(seeded.id),
      "cancelOrder resolved although the repository refused the save: swallowing a conflict would lose someone's write",
    );
    expect(await outcome, "the repository's own ConcurrencyError, not a wrapper").toBe(conflict);
  });
});

describe("boundaries", () => {
  it("runs on nothing but its ports, and its module graph reaches neither express nor pg", async () => {
    const { service } = setup();
    const order = await service.placeOrder(command([{ sku: "CABLE-1", quantity: 4 }]));
    expect(order.totalCents, "the service works with in-memory fakes of its ports").toBe(1_000);

    const reached = packagesReached(kataPath(import.meta.url, "../src/order-service.ts"));
    for (const forbidden of ["express", "pg"]) {
      expect(
        reached.get(forbidden),
        `the service must not depend on ${forbidden} (the chain of imports that reaches it is shown); ` +
          "business rules that import a framework or a driver can only be run, tested and reused with it",
      ).toBeUndefined();
    }
  });
});
