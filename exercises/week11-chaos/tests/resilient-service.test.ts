import { usePostgres } from "#fixtures/postgres";
import { useRedis } from "#fixtures/redis";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProductNotFoundError, ServiceUnavailableError } from "../src/errors";
import { quantile } from "./support/load";
import { phase, seedCatalog, startRig, type Rig } from "./support/service-rig";
import { eventually, timed } from "./support/sockets";

const redis = useRedis();
const postgres = usePostgres();
const fixtures = () => ({
  redisUrl: redis.url,
  redisPrefix: redis.prefix,
  databaseUrl: postgres.url,
  schema: postgres.schema,
});

beforeAll(async () => {
  await seedCatalog(postgres.pool());
});

const rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((rig) => rig.close()));
});
async function rig(options: Parameters<typeof startRig>[1] = {}): Promise<Rig> {
  const started = await startRig(fixtures(), options);
  rigs.push(started);
  return started;
}

describe("a healthy service", () => {
  it("reads a product from Postgres, then from the cache", async () => {
    const { service } = await rig();
    const first = await service.getProduct("p3");
    expect(first.source, "the first read has nothing cached").toBe("database");
    expect(first.product).toMatchObject({ id: "p3", name: "product 3", priceCents: 300 });
    expect((await service.getProduct("p3")).source, "the second is served by Redis").toBe("cache");
  });

  it("acknowledges a write once Postgres has committed it, and the next read sees it", async () => {
    const { service } = await rig();
    await service.getProduct("p4");
    const written = await service.updateProduct("p4", { name: "renamed", priceCents: 450 });
    const { rows } = await postgres.query<{ name: string }>("SELECT name FROM products WHERE id = 'p4'");
    expect(rows[0]?.name, "an acknowledged write is in Postgres").toBe("renamed");
    const read = await service.getProduct("p4");
    expect(read.product.name, "a read right after a write must not serve the old cached copy").toBe("renamed");
    expect(read.product.version, "and it carries the write's version").toBe(written.version);
  });

  it("answers ProductNotFoundError for an unknown product, without retrying it", async () => {
    const { service, attempts } = await rig();
    await service.getProduct("p1");
    const before = attempts();
    await expect(service.getProduct("nope")).rejects.toBeInstanceOf(ProductNotFoundError);
    expect(attempts() - before, "a missing row is an answer, not a failure: retrying it only adds load").toBe(1);
  });

  it("takes a write that a newer version superseded as done, without applying it, and refuses an unknown product", async () => {
    const { service } = await rig();
    // Another instance, its clock a day ahead, wrote p12 last: its version is higher than any of ours.
    const ahead = (Date.now() + 86_400_000) * 1000;
    await postgres.query("UPDATE products SET name = 'from ahead', version = $1 WHERE id = 'p12'", [ahead]);
    const written = await service.updateProduct("p12", { name: "behind", priceCents: 1 });
    expect(written.id, "a superseded write is not an error: a newer one is already there").toBe("p12");
    const { rows } = await postgres.query<{ name: string }>("SELECT name FROM products WHERE id = 'p12'");
    expect(rows[0]?.name, "and it must not overwrite the newer version").toBe("from ahead");
    await expect(
      service.updateProduct("nope", { name: "x", priceCents: 1 }),
      "a write to a product that does not exist is the caller's mistake: ProductNotFoundError",
    ).rejects.toBeInstanceOf(ProductNotFoundError);
  });

  it("keeps writes in order when the clock steps back", async () => {
    const { service, clock } = await rig();
    await service.updateProduct("p15", { name: "first", priceCents: 1 });
    clock.shift(-60_000); // an NTP correction, say
    await service.updateProduct("p15", { name: "second", priceCents: 2 });
    const { rows } = await postgres.query<{ name: string }>("SELECT name FROM products WHERE id = 'p15'");
    expect(
      rows[0]?.name,
      "the second write was acknowledged, so Postgres must hold it: a version taken from a clock that went back " +
        "is lower than the first one's, and the write is silently lost",
    ).toBe("second");
  });

  it("keeps its cache entries under cachePrefix, catalog: by default", async () => {
    const { service } = await rig();
    await service.getProduct("p14");
    expect(await redis.client().exists("catalog:p14"), "the default prefix is catalog:").toBe(1);
    const custom = await rig({ cachePrefix: "shop:" });
    await custom.service.getProduct("p14");
    expect(await redis.client().exists("shop:p14"), "and cachePrefix replaces it").toBe(1);
  });

  it("never lets a timed-out write that reaches Postgres late overwrite a newer acknowledged one", async () => {
    const { service, pgProxy } = await rig({ dbTimeoutMs: 500, maxAttempts: 1 });
    await service.getProduct("p10");
    pgProxy.addToxic({ type: "latency", stream: "upstream", latencyMs: 1_500, name: "slow-link" });
    const older = await service.updateProduct("p10", { name: "older", priceCents: 1 }).then(
      () => "acknowledged",
      () => "failed",
    );
    expect(older, "a write that timed out is not acknowledged").toBe("failed");
    pgProxy.removeToxic("slow-link");
    await service.updateProduct("p10", { name: "newer", priceCents: 2 });
    // The timed-out attempt's UPDATE is still on its way, delayed in the proxy; its connection
    // closes once it has been delivered.
    await eventually(() => pgProxy.stats().activeConnections <= 1, "the late attempt's connection closing", 5_000);
    const { rows } = await postgres.query<{ name: string }>("SELECT name FROM products WHERE id = 'p10'");
    expect(
      rows[0]?.name,
      "the old attempt arrived after the newer write was acknowledged: writes must only apply over older versions",
    ).toBe("newer");
  });
});

describe("when Postgres fails", () => {
  it("serves a stale copy while Postgres is down, and ServiceUnavailableError when it has none", async () => {
    const { service, pgProxy, clock } = await rig({ freshForMs: 1_000 });
    await service.getProduct("p5");
    clock.shift(2_000); // the cached copy is no longer fresh
    pgProxy.addToxic({ type: "reset_peer", stream: "upstream" });
    const stale = await service.getProduct("p5");
    expect(stale.source, "an old answer beats no answer for a catalog read").toBe("stale");
    expect(stale.product.name).toBe("product 5");
    await expect(
      service.getProduct("p6"),
      "nothing cached and no database: say so with ServiceUnavailableError",
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(
      service.updateProduct("p5", { name: "lost", priceCents: 5 }),
      "a write Postgres could not commit is not acknowledged: ServiceUnavailableError",
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it("counts unknown products as answers: a run of them does not open the Postgres breaker", async () => {
    const { service, clock } = await rig({ dbBreaker: { volumeThreshold: 5, resetTimeoutMs: 60_000 } });
    for (let i = 0; i < 10; i++) {
      await expect(service.getProduct(`missing-${i}`)).rejects.toBeInstanceOf(ProductNotFoundError);
    }
    clock.shift(2_000); // whatever is cached is no longer fresh: the next read asks Postgres
    expect(
      (await service.getProduct("p13")).source,
      "ten 'no such product' answers are not ten Postgres failures: the breaker must stay closed",
    ).toBe("database");
  });

  it("gives up on a hanging Postgres after its timeout instead of waiting for it", async () => {
    const { service, pgProxy, clock } = await rig({ freshForMs: 1_000, dbTimeoutMs: 400 });
    await service.getProduct("p7");
    clock.shift(2_000);
    const latencyMs = 3_000;
    pgProxy.addToxic({ type: "latency", stream: "downstream", latencyMs });
    let source = "";
    const elapsed = await timed(async () => (source = (await service.getProduct("p7")).source));
    expect(source).toBe("stale");
    expect(
      elapsed,
      `with Postgres answering after ${latencyMs} ms, a read must not wait for it: every attempt needs a timeout`,
    ).toBeLessThan(latencyMs * 0.75);
  });

  it("sends a failing Postgres no more retries than its budget allows (the proxy counts)", async () => {
    const { service, pgProxy, attempts } = await rig({
      maxAttempts: 5,
      retryBudget: { ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 },
      dbBreaker: { volumeThreshold: 1_000_000 }, // keep the breaker out of it: this is the budget's job
    });
    await service.getProduct("p1");
    pgProxy.addToxic({ type: "reset_peer", stream: "upstream" });
    const before = attempts();
    const reads = 60;
    for (let i = 0; i < reads; i += 6) {
      await Promise.all(
        Array.from({ length: 6 }, (_, j) => service.getProduct(`p${2 + ((i + j) % 19)}`).catch(() => undefined)),
      );
    }
    const sent = attempts() - before;
    const allowed = reads + reads * 0.1 + 10;
    expect(
      sent,
      `${reads} reads with up to 5 attempts each could send ${reads * 5}; a 10 % budget plus 1 retry/s over 10 ` +
        `s allows ${allowed}`,
    ).toBeLessThanOrEqual(allowed + 2);
    expect(sent, "each read still tries once").toBeGreaterThanOrEqual(reads);
  });

  it("stops calling a failing Postgres once its breaker opens", async () => {
    const { service, pgProxy, attempts } = await rig({ dbBreaker: { volumeThreshold: 5, resetTimeoutMs: 60_000 } });
    await service.getProduct("p1");
    pgProxy.addToxic({ type: "reset_peer", stream: "upstream" });
    const before = attempts();
    for (let i = 0; i < 50; i++) await service.getProduct(`p${2 + (i % 19)}`).catch(() => undefined);
    expect(
      attempts() - before,
      "after a handful of failures the breaker fails fast: 50 reads must not mean 50 attempts",
    ).toBeLessThan(20);
  });
});

describe("when Redis fails", () => {
  it("bypasses an unreachable cache, then uses it again once Redis is back with an empty script cache", async () => {
    const { service, redisProxy } = await rig();
    await service.getProduct("p8");
    redisProxy.addToxic({ type: "reset_peer", stream: "upstream" });
    for (let i = 0; i < 20; i++) {
      const read = await service.getProduct(`p${1 + (i % 20)}`);
      expect(read.source, "with Redis unreachable every read goes to Postgres").toBe("database");
    }
    redisProxy.removeAllToxics();
    // A restarted Redis has lost its scripts: EVALSHA answers NOSCRIPT until the script is sent again.
    await redis.client().script("FLUSH");
    let cachedAgain = false;
    const deadline = performance.now() + 5_000;
    while (!cachedAgain && performance.now() < deadline) {
      await service.getProduct("p9");
      cachedAgain = (await service.getProduct("p9")).source === "cache";
      if (!cachedAgain) await phase(50);
    }
    expect(
      cachedAgain,
      "once Redis is back (scripts flushed), the service must fill and use the cache again: handle NOSCRIPT",
    ).toBe(true);
  });
});

describe("a chaos experiment", () => {
  interface Read {
    phase: string;
    ok: boolean;
    ms: number;
    source?: string;
  }

  it("holds its objectives while Postgres is slow and resetting and Redis is unreachable, and recovers", async () => {
    const { service, pgProxy, redisProxy, attempts } = await rig({
      dbTimeoutMs: 500,
      cacheTimeoutMs: 300,
      freshForMs: 300,
      dbBreaker: { volumeThreshold: 5, resetTimeoutMs: 500, rollingWindowMs: 2_000 },
      cacheBreaker: { volumeThreshold: 3, resetTimeoutMs: 300 },
    });
    for (let i = 1; i <= 20; i++) await service.getProduct(`p${i}`);

    let current = "steady";
    let running = true;
    const reads: Read[] = [];
    const reader = async (seed: number) => {
      let n = seed;
      while (running) {
        n = (n * 7 + 3) % 20;
        const started = performance.now();
        const at = current;
        try {
          const result = await service.getProduct(`p${n + 1}`);
          reads.push({ phase: at, ok: true, ms: performance.now() - started, source: result.source });
        } catch {
          reads.push({ phase: at, ok: false, ms: performance.now() - started });
        }
        await phase(10);
      }
    };
    const acked: number[] = [];
    const attempted: number[] = [];
    const writer = async () => {
      for (let n = 1; running; n++) {
        attempted.push(n);
        await service.updateProduct("p20", { name: `write ${n}`, priceCents: n }).then(
          () => acked.push(n),
          () => undefined,
        );
        await phase(30);
      }
    };
    const load = Promise.all([reader(1), reader(2), reader(3), reader(4), writer()]);

    await phase(1_000);
    current = "postgres-faults";
    const attemptsBefore = attempts();
    const readsBefore = reads.length;
    pgProxy.addToxic({ type: "latency", stream: "downstream", latencyMs: 2_500 });
    pgProxy.addToxic({ type: "reset_peer", stream: "upstream", toxicity: 0.5 });
    await phase(2_000);
    const faultAttempts = attempts() - attemptsBefore;
    const faultReads = reads.length - readsBefore;
    pgProxy.removeAllToxics();
    // One fault at a time: the breaker closes again (after resetTimeoutMs) before the next.
    current = "between";
    await phase(1_000);
    current = "redis-down";
    redisProxy.addToxic({ type: "reset_peer", stream: "upstream" });
    await phase(1_500);
    redisProxy.removeAllToxics();
    await redis.client().script("FLUSH");
    current = "recovery";
    await phase(2_500);
    current = "after";
    await phase(700);
    running = false;
    await load;

    const of = (name: string) => reads.filter((r) => r.phase === name);
    const errorRate = (name: string) => of(name).filter((r) => !r.ok).length / Math.max(1, of(name).length);
    const p95 = (name: string) =>
      quantile(
        of(name).map((r) => r.ms),
        0.95,
      );
    const steady = p95("steady");
    expect(of("steady").length, "the steady state needs enough reads to measure").toBeGreaterThan(20);
    expect(errorRate("steady"), "steady state: no errors").toBeLessThanOrEqual(0.01);

    expect(
      errorRate("postgres-faults"),
      "with Postgres slow and resetting, cached copies keep reads answered (error objective 5 %)",
    ).toBeLessThanOrEqual(0.05);
    expect(
      of("postgres-faults").some((r) => r.source === "stale"),
      "stale copies are served while Postgres is down",
    ).toBe(true);
    expect(
      p95("postgres-faults"),
      `p95 while Postgres answers after 2500 ms must stay well below that (steady p95 ${steady.toFixed(1)} ms)`,
    ).toBeLessThan(2_000);
    expect(
      faultAttempts,
      `${faultReads} reads and the writes during the fault must not be multiplied into attempts on Postgres`,
    ).toBeLessThanOrEqual(faultReads * 1.1 + 30);

    expect(
      errorRate("redis-down"),
      "with Redis unreachable, reads go to Postgres (error objective 5 %)",
    ).toBeLessThanOrEqual(0.05);
    expect(
      p95("redis-down"),
      `p95 without the cache stays near normal (steady p95 ${steady.toFixed(1)} ms)`,
    ).toBeLessThan(10 * steady + 300);

    expect(
      of("recovery").some((r) => r.source === "cache"),
      "after the faults are removed (and Redis lost its scripts) the cache is used again",
    ).toBe(true);
    expect(errorRate("after"), "and the service is healthy again").toBe(0);
    expect(
      of("after").every((r) => r.source !== "stale"),
      "Postgres is back: no more stale answers",
    ).toBe(true);

    const { rows } = await postgres.query<{ name: string }>("SELECT name FROM products WHERE id = 'p20'");
    const stored = Number(rows[0]?.name.replace("write ", ""));
    const lastAcked = acked.at(-1) ?? 0;
    expect(lastAcked, "writes went through before and after the faults").toBeGreaterThan(10);
    expect(
      stored,
      `Postgres holds write ${stored}; the last acknowledged one was ${lastAcked}: an acknowledged write must ` +
        `never be lost or overwritten by an older one`,
    ).toBeGreaterThanOrEqual(lastAcked);
    expect(stored).toBeLessThanOrEqual(attempted.at(-1) ?? 0);
  }, 30_000);
});
