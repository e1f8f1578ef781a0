import type { Redis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { useRedis } from "#fixtures/redis";
import { CreditLedger, InvalidCreditError } from "../src/credit-ledger";
import { type MessageHandler, type StreamMessage, StreamWorker, type StreamWorkerOptions } from "../src/stream-worker";
import { subNamespace } from "./support/redis-namespace";

const redis = useRedis();
let client: Redis;
beforeAll(() => {
  client = redis.client();
});

let streams = 0;
/** A fresh stream, group and dead-letter stream per test. */
function names() {
  const n = ++streams;
  return { stream: `credits-${n}`, group: "ledger", deadLetterStream: `credits-${n}-dlq` };
}

function worker(
  consumer: string,
  base: ReturnType<typeof names>,
  handler: MessageHandler,
  extra: Partial<StreamWorkerOptions> = {},
) {
  const defaults = { redis: redis.client(), consumer, handler, claimIdleMs: 60_000, hooks: {} };
  return new StreamWorker({ ...defaults, ...base, ...extra });
}

/** A handler that records what it saw and can be told to fail. */
function recorder(fail: (message: StreamMessage, call: number) => boolean = () => false) {
  const seen: StreamMessage[] = [];
  const handler: MessageHandler = (message) => {
    seen.push(message);
    if (fail(message, seen.length)) throw new Error(`handler failed on ${message.id}`);
  };
  return { seen, handler };
}

type Fields = (i: number) => Record<string, string>;
async function add(stream: string, count: number, fields: Fields = (i) => ({ n: String(i) })) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await client.xadd(stream, "*", ...Object.entries(fields(i)).flat()))!);
  return ids;
}

type PendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];
const pending = async (stream: string, group: string) =>
  (await client.xpending(stream, group, "-", "+", 1000)) as PendingRow[];

/**
 * Makes every pending entry look idle for an hour, as if its consumer had died long ago, without
 * waiting: XCLAIM to the same owner with IDLE and JUSTID changes neither owner nor delivery count.
 */
async function ageAllPending(stream: string, group: string): Promise<void> {
  for (const [id, owner] of await pending(stream, group)) {
    await client.xclaim(stream, group, owner, 0, id, "IDLE", 3_600_000, "JUSTID");
  }
}

/** Reads new entries as a consumer that then dies: they sit in its PEL, never acknowledged. */
async function deliverToDeadConsumer(stream: string, group: string, count: number): Promise<void> {
  await client.xreadgroup("GROUP", group, "dead", "COUNT", count, "STREAMS", stream, ">");
}

async function deadLetters(stream: string): Promise<Record<string, string>[]> {
  return (await client.xrange(stream, "-", "+")).map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

describe("reads with a consumer group and acknowledges after processing", () => {
  it("creates the group and the stream, starting at the beginning, and tolerates an existing group", async () => {
    const base = names();
    const early = await add(base.stream, 2);
    const { seen, handler } = recorder();
    const w = worker("w1", base, handler);
    await w.ensureGroup();
    await w.ensureGroup();
    expect(await w.pollOnce()).toEqual({ handled: 2, failed: 0, deadLettered: 0 });
    expect(
      seen.map((m) => m.id),
      "a group created at 0 also reads what was written before it",
    ).toEqual(early);

    const fresh = names();
    await worker("w1", fresh, handler).ensureGroup();
    expect(await client.exists(fresh.stream), "MKSTREAM: the group can exist before the first entry").toBe(1);
  });

  it("rejects when the group cannot be created for another reason than existing already", async () => {
    const base = names();
    await client.set(base.stream, "not a stream");
    const creating = worker("w1", base, () => {}).ensureGroup();
    await expect(creating, "only BUSYGROUP means 'already there'").rejects.toThrow(/WRONGTYPE/);
  });

  it("hands each new entry to the handler once, with its fields and one delivery, and acknowledges it", async () => {
    const base = names();
    const { seen, handler } = recorder();
    const w = worker("w1", base, handler);
    await w.ensureGroup();
    const ids = await add(base.stream, 3, (i) => ({ account: `acc-${i}`, amountCents: "100" }));
    await w.pollOnce();
    const expected = ids.map((id, i) => ({ id, fields: { account: `acc-${i}`, amountCents: "100" }, deliveries: 1 }));
    expect(seen, "the fields exactly as written, nothing more").toStrictEqual(expected);
    expect(await pending(base.stream, base.group), "a handled entry is acknowledged: nothing stays pending").toEqual(
      [],
    );
    expect(await w.pollOnce()).toEqual({ handled: 0, failed: 0, deadLettered: 0 });
    expect(seen).toHaveLength(3);
  });

  it("splits the entries between the consumers of a group: each entry goes to one", async () => {
    const base = names();
    const a = recorder();
    const b = recorder();
    const first = worker("a", base, a.handler, { batchSize: 5 });
    const second = worker("b", base, b.handler, { batchSize: 5 });
    await first.ensureGroup();
    const ids = await add(base.stream, 8);
    await first.pollOnce();
    await second.pollOnce();
    expect(a.seen.length, "batchSize caps what one poll reads").toBe(5);
    expect([...a.seen, ...b.seen].map((m) => m.id).sort(), "every entry handled, none twice").toEqual([...ids].sort());
  });

  it("leaves an entry whose handler failed pending, and delivers it again", async () => {
    const base = names();
    const { seen, handler } = recorder((_m, call) => call === 1);
    const w = worker("w1", base, handler);
    await w.ensureGroup();
    const [id] = await add(base.stream, 1);
    expect(await w.pollOnce()).toEqual({ handled: 0, failed: 1, deadLettered: 0 });
    const rows = await pending(base.stream, base.group);
    expect(
      rows.map((r) => r[0]),
      "XACK before processing loses the entry when the handler fails",
    ).toEqual([id]);

    await ageAllPending(base.stream, base.group);
    expect(
      await w.pollOnce(),
      "an entry pending for longer than claimIdleMs is taken again (XAUTOCLAIM), its own too",
    ).toEqual({
      handled: 1,
      failed: 0,
      deadLettered: 0,
    });
    expect(
      seen.map((m) => [m.id, m.deliveries]),
      "the retry is the second delivery of the same entry",
    ).toEqual([
      [id, 1],
      [id, 2],
    ]);
    expect(await pending(base.stream, base.group)).toEqual([]);
  });
});

describe("recovers the entries of a consumer that died", () => {
  it("leaves a recently delivered entry to its owner, then claims it once it has been idle for claimIdleMs", async () => {
    const base = names();
    const { seen, handler } = recorder();
    const w = worker("survivor", base, handler);
    await w.ensureGroup();
    const [id] = await add(base.stream, 1);
    await deliverToDeadConsumer(base.stream, base.group, 1);

    await w.pollOnce();
    expect(seen, "an entry pending for less than claimIdleMs may still be in its owner's hands").toEqual([]);
    await ageAllPending(base.stream, base.group);
    await w.pollOnce();
    expect(
      seen.map((m) => [m.id, m.deliveries]),
      "after the idle time another consumer takes it over (XAUTOCLAIM)",
    ).toEqual([[id, 2]]);
    expect(await pending(base.stream, base.group)).toEqual([]);
  });

  it("a crash between the effect and the XACK redelivers the entry, and the idempotent effect applies once", async () => {
    const base = names();
    const ledger = new CreditLedger(redis.client());
    let crashes = 1;
    const crashing = worker("crashing", base, ledger.handler(), {
      hooks: {
        afterHandle: () => {
          if (crashes-- > 0) throw new Error("simulated crash before XACK");
        },
      },
    });
    await crashing.ensureGroup();
    await add(base.stream, 1, () => ({ account: "acc-crash", amountCents: "250" }));
    await expect(crashing.pollOnce()).rejects.toThrow("simulated crash");
    expect(await ledger.balance("acc-crash")).toBe(250);
    expect((await pending(base.stream, base.group)).length, "the crash came before the XACK").toBe(1);

    await ageAllPending(base.stream, base.group);
    await worker("other", base, ledger.handler()).pollOnce();
    expect(await pending(base.stream, base.group), "the other worker handled and acknowledged it").toEqual([]);
    expect(await ledger.balance("acc-crash"), "delivered twice, credited once").toBe(250);
  });
});

describe("dead-letters poison entries", () => {
  it("moves an entry whose handler fails on its last allowed delivery to the dead-letter stream", async () => {
    const base = names();
    const { seen, handler } = recorder(() => true);
    const w = worker("w1", base, handler, { maxDeliveries: 3 });
    await w.ensureGroup();
    const [id] = await add(base.stream, 1, () => ({ account: "acc-p", amountCents: "ten" }));
    const polls: unknown[] = [];
    for (let delivery = 1; delivery <= 3; delivery++) {
      polls.push(await w.pollOnce());
      await ageAllPending(base.stream, base.group);
    }
    expect(polls, "two failures left pending, then the dead letter").toEqual([
      { handled: 0, failed: 1, deadLettered: 0 },
      { handled: 0, failed: 1, deadLettered: 0 },
      { handled: 0, failed: 0, deadLettered: 1 },
    ]);
    expect(
      seen.map((m) => m.deliveries),
      "three deliveries, then no more",
    ).toEqual([1, 2, 3]);
    const letters = await deadLetters(base.deadLetterStream);
    expect(letters, "the dead letter keeps the fields and says where it came from and why").toEqual([
      expect.objectContaining({ account: "acc-p", amountCents: "ten", "x-original-id": id, "x-deliveries": "3" }),
    ]);
    expect(letters[0]!["x-error"], "x-error says what failed").toContain(`handler failed on ${id}`);
    expect(
      await pending(base.stream, base.group),
      "a dead-lettered entry is acknowledged, or it loops forever",
    ).toEqual([]);
    await w.pollOnce();
    expect(seen).toHaveLength(3);
  });

  it("dead-letters without calling the handler an entry already delivered more than maxDeliveries times", async () => {
    const base = names();
    const { seen, handler } = recorder();
    const w = worker("w1", base, handler, { maxDeliveries: 3 });
    await w.ensureGroup();
    const [id] = await add(base.stream, 1);
    await deliverToDeadConsumer(base.stream, base.group, 1);
    // Three crashed consumers had it before: Redis counts those deliveries too.
    await client.xclaim(base.stream, base.group, "dead", 0, id!, "IDLE", 3_600_000, "RETRYCOUNT", 3, "JUSTID");
    expect(
      await w.pollOnce(),
      "deliveries is Redis's count (XPENDING), crashed consumers' deliveries included",
    ).toEqual({
      handled: 0,
      failed: 0,
      deadLettered: 1,
    });
    expect(seen, "an entry that crashed three consumers is not given to a fourth").toEqual([]);
    expect(await deadLetters(base.deadLetterStream)).toEqual([
      expect.objectContaining({ "x-original-id": id, "x-deliveries": "4" }),
    ]);
  });
});

describe("never loses a poison entry", () => {
  it("leaves the entry pending when its dead letter cannot be written", async () => {
    const base = names();
    const w = worker("w1", base, () => Promise.reject(new Error("poison")), { maxDeliveries: 1 });
    await w.ensureGroup();
    const [id] = await add(base.stream, 1);
    await client.set(base.deadLetterStream, "not a stream"); // every XADD to it fails
    await w.pollOnce().catch(() => {});
    const rows = await pending(base.stream, base.group);
    const why = "a MULTI acknowledges the entry even when its XADD failed: use a script";
    expect(
      rows.map((r) => r[0]),
      why,
    ).toEqual([id]);
  });
});

describe("applies each entry's effect once", () => {
  it("credits once for a redelivered entry and for ten concurrent deliveries of one entry", async () => {
    const ledger = new CreditLedger(redis.client());
    const handler = ledger.handler();
    const entry = { id: "1700000000000-0", fields: { account: "acc-i", amountCents: "40" }, deliveries: 1 };
    await handler(entry);
    await handler({ ...entry, deliveries: 2 });
    expect(await ledger.balance("acc-i"), "a redelivery must change nothing").toBe(40);
    const twin = { ...entry, id: "1700000000000-1" };
    await Promise.all(Array.from({ length: 10 }, async () => handler(twin)));
    expect(await ledger.balance("acc-i"), "check-then-credit in two commands lets concurrent deliveries through").toBe(
      80,
    );
    expect(await ledger.balance("acc-never"), "an account never credited has 0").toBe(0);
  });

  it.each([
    ["no account", { amountCents: "5" }],
    ["a fractional amount", { account: "a", amountCents: "1.5" }],
    ["a word for an amount", { account: "a", amountCents: "five" }],
    ["no amount", { account: "a" }],
  ])("throws InvalidCreditError for an entry with %s", async (_name, fields) => {
    const ledger = new CreditLedger(redis.client());
    const attempt = Promise.resolve().then(() => ledger.handler()({ id: "1-1", fields, deliveries: 1 }));
    await expect(attempt).rejects.toBeInstanceOf(InvalidCreditError);
    const invalid = { code: "ERR_INVALID_CREDIT", entryId: "1-1", name: "InvalidCreditError" };
    await expect(attempt).rejects.toMatchObject(invalid);
    await expect(attempt, "the message names the entry").rejects.toThrow(/^entry 1-1: ./);
  });

  it("forgets applied entry ids after markerTtlMs: every key it writes but the balances expires", async () => {
    const own = subNamespace(redis);
    const ledger = new CreditLedger(own.client, { markerTtlMs: 3_600_000 });
    const handler = ledger.handler();
    for (let i = 0; i < 20; i++) {
      await handler({ id: `1700000000000-${i}`, fields: { account: `acc-${i % 3}`, amountCents: "1" }, deliveries: 1 });
    }
    const byKey = await own.ttlByKey();
    const keys = [...byKey.keys()];
    const ttls = [...byKey.values()];
    const forever = keys.filter((key) => byKey.get(key) === -1);
    const why = `a marker per entry that never expires grows without bound: ${forever.join(", ")}`;
    expect(forever.length, why).toBeLessThanOrEqual(3);
    expect(Math.max(...ttls), "markers live for markerTtlMs").toBeLessThanOrEqual(3_600_000);
    expect(keys.length - forever.length, "the applied ids are remembered (with an expiry)").toBeGreaterThanOrEqual(20);
  });

  it("remembers applied ids for 7 days by default", async () => {
    const own = subNamespace(redis);
    const handler = new CreditLedger(own.client).handler();
    await handler({ id: "1-1", fields: { account: "a", amountCents: "1" }, deliveries: 1 });
    const week = 7 * 24 * 3_600_000;
    const ttls = (await own.ttls()).filter((ttl) => ttl > 0);
    expect(ttls.length).toBeGreaterThan(0);
    for (const ttl of ttls) expect(ttl, "markerTtlMs defaults to 7 days").toBeGreaterThan(week - 60_000);
    for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(week);
  });
});

describe("trims without losing unacknowledged entries", () => {
  it("removes acknowledged entries below the oldest pending one and keeps everything pending or unread", async () => {
    const base = names();
    const w = worker("w1", base, () => {}, { batchSize: 250 });
    await w.ensureGroup();
    const ids = await add(base.stream, 300);
    await w.pollOnce(); // entries 0..249 handled and acknowledged
    await client.xreadgroup("GROUP", base.group, "dead", "COUNT", 10, "STREAMS", base.stream, ">"); // 250..259 pending
    await client.xack(base.stream, base.group, ...ids.slice(250, 255)); // 250..254 acknowledged, 255..259 still pending
    const removed = await w.trim();
    const left = (await client.xrange(base.stream, "-", "+")).map(([id]) => id);
    for (const id of ids.slice(255)) {
      expect(
        left,
        "an entry still pending or not yet read by the group must survive a trim (MAXLEN drops them)",
      ).toContain(id);
    }
    expect(removed, "trim answers how many it removed").toBe(300 - left.length);
    expect(
      removed,
      "most acknowledged entries below the oldest pending one are gone (exact or ~ MINID)",
    ).toBeGreaterThanOrEqual(125);
  });

  it("leaves a stream without groups as it is", async () => {
    const base = names();
    await add(base.stream, 5);
    expect(await worker("w1", base, () => {}).trim(), "nobody has read anything: nothing may go").toBe(0);
    expect(await client.xlen(base.stream)).toBe(5);
  });

  it("keeps what another group has not read yet", async () => {
    const base = names();
    const w = worker("w1", base, () => {}, { batchSize: 100 });
    await w.ensureGroup();
    // ioredis does not apply keyPrefix to XGROUP: the key is spelled out. XINFO lists groups by
    // name: the lagging "billing" sits between "analytics" and "ledger", both done with every
    // entry, so a trim that looks at only one of the groups is caught.
    await client.xgroup("CREATE", redis.prefix + base.stream, "analytics", "0");
    await client.xgroup("CREATE", redis.prefix + base.stream, "billing", "0");
    const ids = await add(base.stream, 150);
    await w.pollOnce();
    await w.pollOnce();
    await client.xreadgroup("GROUP", "analytics", "a1", "COUNT", 200, "STREAMS", base.stream, ">");
    await client.xack(base.stream, "analytics", ...ids);
    expect(await w.trim(), "the billing group has read nothing: every entry is still needed").toBe(0);
    expect(await client.xlen(base.stream)).toBe(150);
  });
});

describe("runs as a loop", () => {
  it("handles entries as they arrive until aborted, then resolves", async () => {
    const base = names();
    let arrived!: () => void;
    const allArrived = new Promise<void>((resolve) => (arrived = resolve));
    const { seen, handler } = recorder((_m, call) => {
      if (call === 5) arrived();
      return false;
    });
    const w = worker("loop", base, handler, { blockMs: 50 });
    await w.ensureGroup();
    const controller = new AbortController();
    const running = w.run(controller.signal);
    await add(base.stream, 5);
    await Promise.race([allArrived, running]);
    controller.abort();
    await running;
    expect(seen).toHaveLength(5);
    expect(await pending(base.stream, base.group)).toEqual([]);
  });
});
