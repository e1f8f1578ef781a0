import type { Redis } from "ioredis";
import type pg from "pg";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import { usePostgres } from "#fixtures/postgres";
import { useRedis } from "#fixtures/redis";
import { createEventConsumer, type DeadLetter } from "../src/event-envelope";
import { ORDER_CANCELLED_V1, ORDER_LINE_ADDED_V1, ORDER_PLACED_V2 } from "../src/events";
import { createOutboxSchema } from "../src/outbox-schema";
import { OrderService, UnknownOrderError } from "../src/order-service";
import { OutboxRelay, type OutboxEvent, type RelayOptions } from "../src/outbox-relay";
import { gate, settlesWithin } from "./support/waiting";

const postgres = usePostgres();
const redis = useRedis();

let pool: pg.Pool;
let client: Redis;
beforeAll(async () => {
  // Several sessions, so two relays and the test's own queries really run side by side.
  pool = postgres.pool({ max: 8 });
  client = redis.client();
  await createOutboxSchema(pool);
});
beforeEach(async () => {
  await postgres.query("TRUNCATE orders, outbox");
});

const SOURCE = "/orders";
let streams = 0;
const newStream = () => `events-${++streams}`;

interface StreamedEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: string;
  data: Record<string, unknown>;
}

async function streamed(stream: string): Promise<StreamedEvent[]> {
  const entries = await client.xrange(stream, "-", "+");
  return entries.map(([, fields]) => {
    const at = fields.indexOf("event");
    expect(at, "each entry carries the CloudEvent in its `event` field").toBeGreaterThanOrEqual(0);
    return JSON.parse(fields[at + 1]!) as StreamedEvent;
  });
}
const idsIn = async (stream: string) => (await streamed(stream)).map((e) => e.id);

async function count(sql: string): Promise<number> {
  const { rows } = await postgres.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`);
  return rows[0]!.n;
}

function relay(stream: string, options: Partial<RelayOptions> = {}) {
  return new OutboxRelay({ pool, redis: client, stream, source: SOURCE, ...options });
}

describe("writes the business row and its event in one transaction", () => {
  it("places an order with one unsent order.placed event, which the relay publishes as a CloudEvent", async () => {
    const clock = manualClock();
    const service = new OrderService(pool, { clock });
    const { eventId } = await service.placeOrder({ orderId: "ord-1", customerId: "cus-1", totalCents: 1_250 });
    expect(await count("orders WHERE id = 'ord-1'")).toBe(1);
    expect(await count("outbox WHERE sent_at IS NULL"), "the event waits in the outbox, unsent").toBe(1);

    const stream = newStream();
    clock.advance(5_000);
    expect(await relay(stream, { clock }).relayOnce()).toBe(1);
    const [event] = await streamed(stream);
    expect(event).toMatchObject({
      specversion: "1.0",
      id: eventId,
      source: SOURCE,
      type: ORDER_PLACED_V2,
      subject: "ord-1",
      datacontenttype: "application/json",
      data: { orderId: "ord-1", customerId: "cus-1", total: { amountMinor: 1_250, currency: "EUR" } },
    });
    expect(Date.parse(event!.time), "time is when the order was placed (occurred_at), not when it was relayed").toBe(
      manualClock().now(),
    );
  });

  it("adds a line with its event, and an unknown order writes nothing", async () => {
    const service = new OrderService(pool);
    await service.placeOrder({ orderId: "ord-2", customerId: "cus-1", totalCents: 100 });
    const { eventId } = await service.addLine({ orderId: "ord-2", sku: "sku-9", quantity: 3, priceCents: 250 });
    type OrderRow = { total_cents: string; lines: number };
    const { rows } = await postgres.query<OrderRow>("SELECT total_cents, lines FROM orders");
    expect(rows[0]).toEqual({ total_cents: "850", lines: 1 });
    const { rows: events } = await postgres.query<{ event_type: string; payload: unknown }>(
      "SELECT event_type, payload FROM outbox WHERE event_id = $1",
      [eventId],
    );
    expect(events[0]).toEqual({
      event_type: ORDER_LINE_ADDED_V1,
      payload: { orderId: "ord-2", sku: "sku-9", quantity: 3, priceCents: 250 },
    });

    const unknown = service.addLine({ orderId: "ord-none", sku: "sku-9", quantity: 1, priceCents: 1 });
    await expect(unknown).rejects.toBeInstanceOf(UnknownOrderError);
    const unknownOrder = { code: "ERR_UNKNOWN_ORDER", orderId: "ord-none", name: "UnknownOrderError" };
    await expect(unknown).rejects.toMatchObject(unknownOrder);
    await expect(unknown).rejects.toThrow("unknown order ord-none");
    expect(await count("outbox"), "no event for a change that did not happen").toBe(2);
  });

  it("a transaction that fails before COMMIT leaves neither the order nor its event, and nothing is ever published", async () => {
    const stream = newStream();
    const service = new OrderService(pool, {
      hooks: {
        beforeCommit: () => {
          throw new Error("simulated crash before COMMIT");
        },
      },
    });
    const placing = service.placeOrder({ orderId: "ord-3", customerId: "cus-1", totalCents: 10 });
    await expect(placing).rejects.toThrow("simulated crash");
    expect(await client.xlen(stream), "publishing before the commit announces an order that never existed").toBe(0);
    expect(await count("orders"), "the business row must roll back").toBe(0);
    expect(await count("outbox"), "two separate statements (autocommit) leave the event of a rolled-back order").toBe(
      0,
    );
    expect(await relay(stream).drain()).toBe(0);
    expect(await client.xlen(stream)).toBe(0);
  });
});

describe("hands its connection back clean on every path", () => {
  it("leaves no transaction open and keeps its healthy session, after a commit and after a rollback", async () => {
    const single = postgres.pool({ max: 1 }); // one session: each call sees what the last one left behind
    const inOwnTransaction = async () => {
      const { rows } = await single.query<{ fresh: boolean }>(
        "SELECT xact_start = query_start AS fresh FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      return rows[0]!.fresh;
    };
    let crashes = 1;
    const crashOnce = () => {
      if (crashes-- > 0) throw new Error("simulated crash");
    };
    const service = new OrderService(single, { hooks: {} });
    await service.placeOrder({ orderId: "ord-h1", customerId: "c", totalCents: 1 });
    const crashing = new OrderService(single, { hooks: { beforeCommit: crashOnce } });
    await expect(crashing.placeOrder({ orderId: "ord-h2", customerId: "c", totalCents: 1 })).rejects.toThrow();
    expect(single.totalCount, "a healthy session goes back to the pool instead of being destroyed").toBe(1);
    expect(await inOwnTransaction(), "a failed write must roll back, or the next one runs inside its transaction").toBe(
      true,
    );

    const stream = newStream();
    crashes = 1;
    await expect(relay(stream, { pool: single, hooks: { afterPublish: crashOnce } }).relayOnce()).rejects.toThrow();
    expect(single.totalCount, "the relay keeps its healthy session too").toBe(1);
    expect(await inOwnTransaction(), "a crashed relay run must roll back").toBe(true);
    expect(await relay(stream, { pool: single, hooks: {} }).drain()).toBe(1);
    expect(single.totalCount).toBe(1);
  });
});

describe("relays committed events to a Redis Stream", () => {
  it("publishes in position order, marks the rows sent at the clock's time, and publishes nothing twice", async () => {
    const clock = manualClock();
    const service = new OrderService(pool, { clock });
    const ids = [
      (await service.placeOrder({ orderId: "ord-a", customerId: "c", totalCents: 1 })).eventId,
      (await service.placeOrder({ orderId: "ord-b", customerId: "c", totalCents: 2 })).eventId,
      (await service.addLine({ orderId: "ord-a", sku: "s", quantity: 1, priceCents: 5 })).eventId,
    ];
    const stream = newStream();
    clock.advance(60_000);
    const outbox = relay(stream, { clock });
    expect(await outbox.relayOnce()).toBe(3);
    expect(await idsIn(stream)).toEqual(ids);
    const { rows } = await postgres.query<{ sent_ms: number }>(
      "SELECT (extract(epoch FROM sent_at) * 1000)::float8 AS sent_ms FROM outbox",
    );
    expect(
      rows.map((r) => Math.round(r.sent_ms)),
      "sent_at comes from the injected clock",
    ).toEqual([clock.now(), clock.now(), clock.now()]);
    expect(await outbox.relayOnce(), "a sent row is never published again").toBe(0);
    expect(await client.xlen(stream)).toBe(3);
  });

  it("publishes at most batchSize rows per run, and drain publishes the rest", async () => {
    const service = new OrderService(pool);
    for (let i = 0; i < 7; i++) await service.placeOrder({ orderId: `ord-${i}`, customerId: "c", totalCents: i });
    const stream = newStream();
    const outbox = relay(stream, { batchSize: 3 });
    expect(await outbox.relayOnce()).toBe(3);
    expect(await outbox.drain()).toBe(4);
    expect(await client.xlen(stream)).toBe(7);
  });

  it("a publish that fails leaves the rows unsent, and the next run publishes them", async () => {
    const service = new OrderService(pool);
    await service.placeOrder({ orderId: "ord-x", customerId: "c", totalCents: 1 });
    await service.placeOrder({ orderId: "ord-y", customerId: "c", totalCents: 2 });
    const stream = newStream();
    await client.set(stream, "not a stream"); // every XADD to this key fails with WRONGTYPE
    const outbox = relay(stream);
    await expect(outbox.relayOnce(), "a failed XADD must fail the run").rejects.toThrow();
    expect(
      await count("outbox WHERE sent_at IS NULL"),
      "marking sent before the publish succeeded loses the events",
    ).toBe(2);
    await client.del(stream);
    expect(await outbox.drain()).toBe(2);
    expect(await client.xlen(stream)).toBe(2);
  });

  it("a crash after publishing and before marking publishes the batch again, with the same event ids, which a consumer absorbs", async () => {
    const service = new OrderService(pool);
    const first = await service.placeOrder({ orderId: "ord-p", customerId: "c", totalCents: 1 });
    const second = await service.placeOrder({ orderId: "ord-p2", customerId: "c", totalCents: 2 });
    const stream = newStream();
    let crashes = 1;
    const crashing = relay(stream, {
      hooks: {
        afterPublish: () => {
          if (crashes-- > 0) throw new Error("simulated crash after XADD");
        },
      },
    });
    await expect(crashing.relayOnce()).rejects.toThrow("simulated crash");
    expect(
      await count("outbox WHERE sent_at IS NULL"),
      "the crash came before the mark: the rows are still unsent",
    ).toBe(2);
    expect(await crashing.drain()).toBe(2);
    const ids = await idsIn(stream);
    expect(ids, "at least once: the batch is published twice, and a consumer dedupes it by event id").toEqual([
      first.eventId,
      second.eventId,
      first.eventId,
      second.eventId,
    ]);

    // The event-envelope kata's consumer, fed the stream: the duplicates cost nothing.
    const handled: string[] = [];
    const letters: DeadLetter[] = [];
    const consumer = createEventConsumer({
      handlers: {
        [ORDER_PLACED_V2]: (event) => void handled.push(event.data.orderId),
        [ORDER_CANCELLED_V1]: () => {},
      },
      deadLetter: (letter) => void letters.push(letter),
      seen: new Set<string>(),
    });
    const outcomes: string[] = [];
    for (const event of await streamed(stream)) outcomes.push(await consumer.consume(event));
    expect(letters, "the relay publishes valid CloudEvents 1.0 (see the event-envelope kata)").toEqual([]);
    expect(outcomes, "the republished copies carry the same source and id: a consumer skips them").toEqual([
      "handled",
      "handled",
      "duplicate",
      "duplicate",
    ]);
    expect(handled, "each order's effect applied once").toEqual(["ord-p", "ord-p2"]);
  });

  it("a crash before publishing publishes nothing and loses nothing", async () => {
    const service = new OrderService(pool);
    const { eventId } = await service.placeOrder({ orderId: "ord-q", customerId: "c", totalCents: 1 });
    const stream = newStream();
    let crashes = 1;
    const crashing = relay(stream, {
      hooks: {
        beforePublish: () => {
          if (crashes-- > 0) throw new Error("simulated crash before XADD");
        },
      },
    });
    await expect(crashing.relayOnce()).rejects.toThrow("simulated crash");
    expect(await client.xlen(stream)).toBe(0);
    expect(await crashing.drain(), "the lock died with the crashed run: the row is claimable again").toBe(1);
    expect(await idsIn(stream)).toEqual([eventId]);
  });
});

describe("runs as several relays at once", () => {
  it("a relay skips rows another relay holds, without waiting, and never overtakes an older event of their aggregate", async () => {
    const service = new OrderService(pool);
    const ids: Record<string, string[]> = { A: [], B: [], C: [], D: [] };
    const place = async (agg: string) => {
      ids[agg]!.push((await service.placeOrder({ orderId: agg, customerId: "c", totalCents: 1 })).eventId);
    };
    const line = async (agg: string) => {
      ids[agg]!.push((await service.addLine({ orderId: agg, sku: "s", quantity: 1, priceCents: 1 })).eventId);
    };
    // Positions: A1 B1 A2 B2 | C1 A3 D1 D2
    await place("A");
    await place("B");
    await line("A");
    await line("B");
    await place("C");
    await line("A");
    await place("D");
    await line("D");

    const stream = newStream();
    const held = gate();
    const claimed = gate();
    let heldEvents: readonly OutboxEvent[] = [];
    const first = relay(stream, {
      batchSize: 4,
      hooks: {
        beforePublish: async (events) => {
          heldEvents = events;
          claimed.open();
          await held.opened;
        },
      },
    });
    const firstRun = first.relayOnce();
    try {
      await Promise.race([claimed.opened, firstRun]);
      expect(
        heldEvents.map((e) => e.eventId),
        "the first relay claims the four oldest rows, oldest first",
      ).toEqual([ids.A![0], ids.B![0], ids.A![1], ids.B![1]]);

      const secondRun = relay(stream, { batchSize: 4 }).relayOnce();
      const finished = await settlesWithin(secondRun, 5_000);
      expect(finished, "a second relay must skip the locked rows (SKIP LOCKED), not wait for them").toBe(true);
      const publishedMeanwhile = await idsIn(stream);
      expect(
        publishedMeanwhile.filter((id) => heldEvents.some((e) => e.eventId === id)),
        "rows another relay holds must be skipped: keep them locked (one transaction) from the claim to the mark",
      ).toEqual([]);
      expect(publishedMeanwhile, "A3 must wait for A1 and A2; C1, D1 and D2 have nothing older pending").toEqual([
        ids.C![0],
        ids.D![0],
        ids.D![1],
      ]);
    } finally {
      // Never leave the first relay holding its transaction, whatever failed above.
      held.open();
    }
    expect(await firstRun).toBe(4);
    await relay(stream).drain();
    const order = await idsIn(stream);
    for (const [agg, expected] of Object.entries(ids)) {
      const why = `events of ${agg} must reach the stream in the order they happened`;
      expect(
        order.filter((id) => expected.includes(id)),
        why,
      ).toEqual(expected);
    }
    expect(order, "every event exactly once").toHaveLength(8);
  });

  it("two relays draining together publish every event exactly once, in order per aggregate", async () => {
    const service = new OrderService(pool);
    const ids = new Map<string, string[]>();
    const aggregates = ["W", "X", "Y", "Z"];
    for (const agg of aggregates) {
      ids.set(agg, [(await service.placeOrder({ orderId: agg, customerId: "c", totalCents: 0 })).eventId]);
    }
    for (let round = 0; round < 9; round++) {
      for (const agg of aggregates) {
        const { eventId } = await service.addLine({ orderId: agg, sku: `s${round}`, quantity: 1, priceCents: 1 });
        ids.get(agg)!.push(eventId);
      }
    }
    const stream = newStream();
    const relays = [relay(stream, { batchSize: 3 }), relay(stream, { batchSize: 3 })];
    // A relay whose batch is all blocked stops draining; a new round finds the rows free again.
    for (let rounds = 0; rounds < 40 && (await count("outbox WHERE sent_at IS NULL")) > 0; rounds++) {
      await Promise.all(relays.map((r) => r.drain()));
    }
    const order = await idsIn(stream);
    expect(new Set(order).size, "every event published").toBe(40);
    expect(order, "SKIP LOCKED with the lock held until the mark: no row is published by both relays").toHaveLength(40);
    for (const [agg, expected] of ids) {
      const why = `events of ${agg} in the order they happened`;
      expect(
        order.filter((id) => expected.includes(id)),
        why,
      ).toEqual(expected);
    }
  });
});

describe("prunes sent events", () => {
  it("deletes the rows sent longer ago than the retention, and never an unsent row however old", async () => {
    const clock = manualClock();
    const service = new OrderService(pool, { clock });
    await service.placeOrder({ orderId: "old-1", customerId: "c", totalCents: 1 });
    await service.placeOrder({ orderId: "old-2", customerId: "c", totalCents: 1 });
    const outbox = relay(newStream(), { clock });
    await outbox.drain();
    await service.placeOrder({ orderId: "old-unsent", customerId: "c", totalCents: 1 });

    clock.advance(30 * 60_000);
    expect(await outbox.prune(60 * 60_000), "sent 30 minutes ago: still within an hour's retention").toBe(0);
    clock.advance(60 * 60_000);
    expect(await outbox.prune(60 * 60_000), "sent 90 minutes ago: past an hour's retention").toBe(2);
    expect(
      await count("outbox WHERE sent_at IS NULL"),
      "an unsent event is never pruned, however old: that would lose it",
    ).toBe(1);
    expect(await count("outbox")).toBe(1);
  });
});
