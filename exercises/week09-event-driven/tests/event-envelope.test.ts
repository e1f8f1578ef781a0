import { describe, expect, it } from "vitest";
import {
  createEventConsumer,
  type DeadLetter,
  type EventHandlers,
  eventIdentity,
  parseEvent,
  upcast,
} from "../src/event-envelope";
import {
  type LatestEvent,
  ORDER_CANCELLED_V1,
  ORDER_PLACED_V1,
  ORDER_PLACED_V2,
  type OrderPlacedV1,
} from "../src/events";

const placedV1 = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  specversion: "1.0",
  id: "evt-1001",
  source: "/checkout",
  type: ORDER_PLACED_V1,
  time: "2026-03-01T12:00:00Z",
  datacontenttype: "application/json",
  subject: "order-17",
  data: { orderId: "order-17", customerId: "cust-4", amountCents: 4_250 },
  ...overrides,
});

const placedV2 = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  specversion: "1.0",
  id: "evt-2001",
  source: "urn:shop:checkout",
  type: ORDER_PLACED_V2,
  data: { orderId: "order-18", customerId: "cust-5", total: { amountMinor: 999, currency: "USD" } },
  ...overrides,
});

const cancelled = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  specversion: "1.0",
  id: "evt-3001",
  source: "https://shop.example/orders",
  type: ORDER_CANCELLED_V1,
  data: { orderId: "order-18", reason: "customer asked" },
  ...overrides,
});

const ORDER = { orderId: "o", customerId: "c" };

function reasonOf(input: unknown): string {
  const result = parseEvent(input);
  return result.ok ? "ok" : result.reason;
}

describe("validates the CloudEvents 1.0.2 envelope", () => {
  it("accepts each known type with only the required attributes", () => {
    const minimal = {
      specversion: "1.0",
      id: "e1",
      source: "/s",
      type: ORDER_CANCELLED_V1,
      data: { orderId: "o1", reason: "r" },
    };
    const result = parseEvent(minimal);
    const why = `id, source, specversion and type are all an envelope must have: ${JSON.stringify(result)}`;
    expect(result.ok, why).toBe(true);
    expect(parseEvent(placedV2()).ok).toBe(true);
    expect(parseEvent(placedV1()).ok).toBe(true);
  });

  it.each([
    ["no id", { id: undefined }],
    ["an empty id", { id: "" }],
    ["a numeric id", { id: 42 }],
    ["no source", { source: undefined }],
    ["an empty source", { source: "" }],
    ["a source with a space (not a URI-reference)", { source: "checkout service" }],
    ["no specversion", { specversion: undefined }],
    ["specversion 0.3", { specversion: "0.3" }],
    ['specversion 1.0.2 (the value is "1.0")', { specversion: "1.0.2" }],
    ["specversion as the number 1", { specversion: 1 }],
    ["no type", { type: undefined }],
    ["an empty type", { type: "" }],
    ["an empty subject", { subject: "" }],
    ["an empty datacontenttype", { datacontenttype: "" }],
  ])("rejects an envelope with %s as invalid-envelope", (_name, overrides) => {
    expect(
      reasonOf(placedV2(overrides)),
      "a broken envelope is not an unknown type: nothing about it can be trusted",
    ).toBe("invalid-envelope");
  });

  it.each(["/checkout", "urn:shop:checkout", "https://shop.example/orders?region=eu#x", "/a:b", "x:y", "/caf%C3%A9"])(
    "accepts the source %s (a URI-reference)",
    (source) => {
      expect(reasonOf(placedV2({ source }))).toBe("ok");
    },
  );

  it.each([
    "1shop:checkout",
    "1shop:orders/eu",
    ":checkout",
    "shop_x:checkout",
    "/caf%zz",
    "/a%4",
    "/<checkout>",
    "/check\nout",
  ])("rejects the source %j (not a URI-reference)", (source) => {
    expect(reasonOf(placedV2({ source })), "RFC 3986: a scheme, allowed characters, %XX").toBe("invalid-envelope");
  });

  it.each([null, "evt", 42, [], [placedV2()]])("rejects %j as invalid-envelope instead of throwing", (input) => {
    expect(reasonOf(input), "a consumer must survive whatever arrives on the wire").toBe("invalid-envelope");
  });

  it.each(["2026-03-01T12:00:00Z", "2026-03-01T12:00:00.123+02:00", "2026-12-31T23:59:59.999999-05:30"])(
    "accepts the RFC 3339 time %s",
    (time) => {
      expect(reasonOf(placedV2({ time }))).toBe("ok");
    },
  );

  it.each([
    ["without a UTC offset", "2026-03-01T12:00:00"],
    ["with an offset missing its colon", "2026-03-01T12:00:00+0200"],
    ["on a day that does not exist", "2026-02-30T10:00:00Z"],
    ["in month 13", "2026-13-01T00:00:00Z"],
    ["in words", "yesterday"],
    ["as epoch milliseconds", 1772366400000],
  ])("rejects a time %s as invalid-envelope", (_name, time) => {
    expect(
      reasonOf(placedV2({ time })),
      "Date.parse accepts far more than RFC 3339; a time that means nothing must not pass",
    ).toBe("invalid-envelope");
  });

  it("tolerates extension attributes and keeps them on the event", () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const result = parseEvent(placedV2({ traceparent, partitionkey: "order-18" }));
    expect(result.ok, "producers add extensions over time; a strict envelope would reject every one of them").toBe(
      true,
    );
    expect(result.ok && result.event, "extensions travel on: strip them and tracing breaks downstream").toMatchObject({
      traceparent,
      partitionkey: "order-18",
    });
  });

  it("tolerates unknown fields inside the data of a known type", () => {
    const data = { orderId: "o1", customerId: "c1", total: { amountMinor: 5, currency: "EUR" }, giftWrap: true };
    expect(reasonOf(placedV2({ data })), "a producer that adds a field must not break its consumers").toBe("ok");
  });
});

describe("routes by type with a discriminated union", () => {
  it("answers unknown-type for a valid envelope of a type nobody here knows, including a future version", () => {
    const why = "tell a valid envelope of a type nobody knows (route it aside) from broken data of a known type";
    expect(reasonOf(placedV2({ type: "com.example.shop.order.placed.v3" })), why).toBe("unknown-type");
    const invoice = placedV2({ type: "com.example.billing.invoice.sent.v1", data: { anything: 1 } });
    expect(reasonOf(invoice), why).toBe("unknown-type");
  });

  it.each([
    ["v1 without amountCents", placedV1({ data: { orderId: "o", customerId: "c" } })],
    ["v1 with fractional cents", placedV1({ data: { orderId: "o", customerId: "c", amountCents: 10.5 } })],
    ["v2 with the v1 shape", placedV2({ data: { orderId: "o", customerId: "c", amountCents: 10 } })],
    ["v2 with a four-letter currency", placedV2({ data: { ...ORDER, total: { amountMinor: 1, currency: "EURO" } } })],
    ["v2 with a currency in lower case", placedV2({ data: { ...ORDER, total: { amountMinor: 1, currency: "eur" } } })],
    ["v2 with a prefixed currency", placedV2({ data: { ...ORDER, total: { amountMinor: 1, currency: "XEUR" } } })],
    [
      "v2 with a negative total",
      placedV2({ data: { orderId: "o", customerId: "c", total: { amountMinor: -1, currency: "EUR" } } }),
    ],
    ["cancelled without a reason", cancelled({ data: { orderId: "o" } })],
    ["cancelled without data", cancelled({ data: undefined })],
  ])("answers invalid-data for %s", (_name, input) => {
    expect(reasonOf(input), "the envelope is fine but the payload breaks its type's schema").toBe("invalid-data");
  });

  it("says in issues what is wrong, naming the attribute or the type", () => {
    const issuesOf = (input: unknown) => {
      const result = parseEvent(input);
      return result.ok ? "" : result.issues.join(" | ");
    };
    const why = "whoever reads the dead-letter queue needs to know what to fix";
    expect(issuesOf(placedV2({ time: "yesterday" })), why).toContain("time");
    const noCurrency = placedV2({ data: { orderId: "o", customerId: "c", total: { amountMinor: 1 } } });
    expect(issuesOf(noCurrency), why).toContain("currency");
    expect(issuesOf(placedV2({ type: "com.example.shop.order.placed.v3" })), why).toContain("order.placed.v3");
    const root = parseEvent(null);
    expect(!root.ok && root.issues.length, why).toBeGreaterThan(0);
    expect(!root.ok && root.issues.every((issue) => issue.trim().length > 0), "every issue says something").toBe(true);
  });
});

describe("upcasts old versions", () => {
  it("turns order.placed v1 into v2 with the amount in EUR and every other attribute unchanged", () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const v1 = placedV1({ traceparent }) as unknown as OrderPlacedV1;
    const v2 = upcast(v1);
    expect(v2, "only type and data change: id, source, time, subject and extensions stay as they were").toEqual({
      ...v1,
      type: ORDER_PLACED_V2,
      data: { orderId: "order-17", customerId: "cust-4", total: { amountMinor: 4_250, currency: "EUR" } },
    });
    expect(v1.type, "upcasting returns a new event; the input stays as it was").toBe(ORDER_PLACED_V1);
  });

  it("parseEvent hands back v1 events already upcast, with their identity intact", () => {
    const result = parseEvent(placedV1());
    expect(result.ok && result.event.type, "handlers only ever see the latest version").toBe(ORDER_PLACED_V2);
    expect(
      result.ok && { id: result.event.id, source: result.event.source, time: result.event.time },
      "an upcast event is the same event",
    ).toEqual({
      id: "evt-1001",
      source: "/checkout",
      time: "2026-03-01T12:00:00Z",
    });
  });

  it("leaves the latest versions as they are", () => {
    const v2 = placedV2() as unknown as LatestEvent;
    expect(upcast(v2)).toEqual(v2);
  });
});

describe("identifies an event by source and id", () => {
  it("gives the same identity to the same (source, id) and different ones otherwise", () => {
    expect(eventIdentity({ source: "/checkout", id: "1" })).toBe(eventIdentity({ source: "/checkout", id: "1" }));
    expect(eventIdentity({ source: "/checkout", id: "1" }), "ids are unique per source only").not.toBe(
      eventIdentity({ source: "/billing", id: "1" }),
    );
  });

  it.each([
    [
      { source: "urn:a", id: "b:c" },
      { source: "urn:a:b", id: "c" },
    ],
    [
      { source: "/a", id: "b/c" },
      { source: "/a/b", id: "c" },
    ],
    [
      { source: "/a", id: "|b" },
      { source: "/a|", id: "b" },
    ],
    [
      { source: "/a", id: "bc" },
      { source: "/ab", id: "c" },
    ],
  ])("never confuses %j with %j", (first, second) => {
    expect(
      eventIdentity(first),
      "concatenating with a separator that may occur inside either part merges two events",
    ).not.toBe(eventIdentity(second));
  });
});

function consumerUnderTest(overrides: Partial<EventHandlers> = {}) {
  const handled: LatestEvent[] = [];
  const byHandler: Record<"placed" | "cancelled", string[]> = { placed: [], cancelled: [] };
  const letters: DeadLetter[] = [];
  const seen = new Set<string>();
  const handlers: EventHandlers = {
    [ORDER_PLACED_V2]: (event) => {
      byHandler.placed.push(event.type);
      handled.push(event);
    },
    [ORDER_CANCELLED_V1]: (event) => {
      byHandler.cancelled.push(event.type);
      handled.push(event);
    },
    ...overrides,
  };
  const consumer = createEventConsumer({ handlers, deadLetter: (letter) => void letters.push(letter), seen });
  return { consumer, handled, byHandler, letters, seen };
}

describe("consumes without crashing, once per event", () => {
  it("dispatches each type to its handler, v1 events upcast", async () => {
    const { consumer, handled, byHandler } = consumerUnderTest();
    expect(await consumer.consume(placedV1())).toBe("handled");
    expect(await consumer.consume(cancelled())).toBe("handled");
    expect(byHandler, "each event goes to the handler of its type").toEqual({
      placed: [ORDER_PLACED_V2],
      cancelled: [ORDER_CANCELLED_V1],
    });
    expect(handled[0]!.data).toMatchObject({ total: { amountMinor: 4_250, currency: "EUR" } });
  });

  it("routes an unknown type and an invalid event to the dead-letter sink and keeps consuming", async () => {
    const { consumer, handled, letters } = consumerUnderTest();
    const future = placedV2({ type: "com.example.shop.order.placed.v3", id: "evt-future" });
    const broken = placedV2({ id: "evt-broken", data: { orderId: "o" } });
    expect(await consumer.consume(future), "an unknown type must not crash the consumer").toBe("dead-lettered");
    expect(await consumer.consume(broken)).toBe("dead-lettered");
    expect(await consumer.consume("not json at all")).toBe("dead-lettered");
    expect(await consumer.consume(placedV2()), "the consumer carries on after what it set aside").toBe("handled");
    expect(
      letters.map((l) => l.reason),
      "each dead letter says why it was set aside",
    ).toEqual(["unknown-type", "invalid-data", "invalid-envelope"]);
    expect(letters[0]!.input, "the dead letter keeps the input as it came, to replay or inspect").toEqual(future);
    expect(handled).toHaveLength(1);
  });

  it("skips a redelivered event, also when it comes back in another version", async () => {
    const { consumer, handled } = consumerUnderTest();
    expect(await consumer.consume(placedV1())).toBe("handled");
    expect(await consumer.consume(placedV1()), "at-least-once delivery: the same event arrives twice").toBe(
      "duplicate",
    );
    const republished = upcast(placedV1() as unknown as OrderPlacedV1);
    expect(await consumer.consume(republished), "an upcast event is the same event: same source, same id").toBe(
      "duplicate",
    );
    expect(
      await consumer.consume(placedV1({ source: "/legacy-checkout" })),
      "same id from another source is another event",
    ).toBe("handled");
    expect(handled).toHaveLength(2);
  });

  it("records the identity only after the handler succeeded, so a failed event is handled on redelivery", async () => {
    let failures = 1;
    const { consumer, handled } = consumerUnderTest({
      [ORDER_CANCELLED_V1]: (event) => {
        if (failures-- > 0) throw new Error("database unavailable");
        handled.push(event);
      },
    });
    await expect(
      consumer.consume(cancelled()),
      "a handler failure must reach the transport, which redelivers",
    ).rejects.toThrow("database unavailable");
    expect(
      await consumer.consume(cancelled()),
      "marking the event seen before handling it loses it when the handler fails",
    ).toBe("handled");
    expect(handled).toHaveLength(1);
  });

  it("keeps identities in the store it was given", async () => {
    const { consumer, seen } = consumerUnderTest();
    await consumer.consume(cancelled());
    expect([...seen], "the store is what survives a restart; keep the identities there").toEqual([
      eventIdentity({ source: "https://shop.example/orders", id: "evt-3001" }),
    ]);
  });
});
