import { inspect } from "node:util";
import type { Request } from "express";
import { type Item, parseList } from "structured-headers";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { RateLimitDecision } from "../src/decision";
import { type AppOptions, createApp, type Principal, type RateLimiter, rateLimit } from "../src/rate-limit-middleware";
import { mentions } from "#fixtures/messages";

const QUOTA = 3;
const POLICY = { name: "default", quota: QUOTA, windowSeconds: 60 };
const PROBLEM_TYPES = "https://iana.org/assignments/http-problem-types";

/**
 * A limiter over a store the test can stop, hang and restart: `quota` requests per key, then
 * refusals. Its numbers are fixed so the fields can be checked exactly.
 */
class FakeStore implements RateLimiter {
  readonly keys: string[] = [];
  readonly #used = new Map<string, number>();
  #mode: "up" | "down" | "hanging" = "up";

  constructor(
    private readonly answer: { retryAfterMs?: number; resetAfterMs?: number; extraRemaining?: number } = {},
  ) {}

  consume(key: string, cost: number): Promise<RateLimitDecision> {
    this.keys.push(key);
    if (this.#mode === "down") return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    if (this.#mode === "hanging") return new Promise(() => {});
    const used = this.#used.get(key) ?? 0;
    const allowed = used + cost <= QUOTA;
    if (allowed) this.#used.set(key, used + cost);
    const remaining = QUOTA - (allowed ? used + cost : used) + (this.answer.extraRemaining ?? 0);
    return Promise.resolve({
      allowed,
      remaining,
      retryAfterMs: allowed ? 0 : (this.answer.retryAfterMs ?? 1500),
      resetAfterMs: this.answer.resetAfterMs ?? 29_500,
    });
  }

  stop(): void {
    this.#mode = "down";
  }
  hang(): void {
    this.#mode = "hanging";
  }
  start(): void {
    this.#mode = "up";
  }
}

const users: Record<string, string> = { "alice-token": "alice", "bob-token": "bob" };
const apiKeys: Record<string, string> = { "k-live-123": "partner-7" };

/** Verifies a bearer token or an API key against the tables above, like real authentication. */
function authenticate(req: Request): Principal | undefined {
  const bearer = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1];
  if (bearer && users[bearer]) return { kind: "user", id: users[bearer] };
  const key = req.get("x-api-key");
  if (key && apiKeys[key]) return { kind: "api-key", id: apiKeys[key] };
  return undefined;
}

function api(overrides: Partial<AppOptions> = {}) {
  const store = new FakeStore();
  const warnings: unknown[][] = [];
  let served = 0;
  const app = createApp({
    limiter: store,
    policy: POLICY,
    onLimiterError: "fail-closed",
    logger: { warn: (...args: unknown[]) => void warnings.push(args) },
    trustedProxies: ["loopback"],
    authenticate,
    handler: (_req, res) => {
      served += 1;
      res.json({ ok: true });
    },
    ...overrides,
  });
  return { app, store, warnings, served: () => served };
}

/** A request as the trusted proxy on loopback forwards it: the proxy appends the client's address. */
function viaProxy(app: Parameters<typeof request>[0], xForwardedFor: string, path = "/resource") {
  return request(app).get(path).set("X-Forwarded-For", xForwardedFor).timeout({ response: 5000 });
}

function onlyItem(field: string | undefined, name: string): Item {
  expect(field, `the ${name} field must be present`).toBeDefined();
  const list = parseList(field!);
  expect(list.length, `${name} carries one item per policy, here one`).toBe(1);
  const item = list[0]!;
  expect(Array.isArray(item[0]), `${name} members are Items, not Inner Lists`).toBe(false);
  return item as Item;
}

async function statuses(send: (i: number) => Promise<{ status: number }>, count: number): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await send(i)).status);
  return result;
}

describe("RateLimit-Policy and RateLimit fields", () => {
  it('announces the policy as a Structured Field List: "default";q=3;w=60', async () => {
    const { app } = api({ handler: undefined });
    const res = await viaProxy(app, "203.0.113.7");
    expect(res.status).toBe(200);
    expect(res.body, "without a handler, GET /resource answers the default body").toEqual({ ok: true });
    const [name, params] = onlyItem(res.headers["ratelimit-policy"], "RateLimit-Policy");
    expect(name, "draft-10: the policy identifier is an sf-string (quoted), not a token").toBe("default");
    expect(params.get("q"), "q is the quota, a required Integer").toBe(QUOTA);
    expect(params.get("w"), "w is the window in seconds").toBe(60);
  });

  it('reports the remaining quota and the seconds until it is whole again: "default";r=2;t=30', async () => {
    const { app } = api();
    const res = await viaProxy(app, "203.0.113.7");
    const [name, params] = onlyItem(res.headers["ratelimit"], "RateLimit");
    expect(name, "RateLimit names the policy it reports on").toBe("default");
    expect(params.get("r"), "one of three used").toBe(2);
    expect(params.get("t"), "resetAfterMs 29 500 is 30 whole seconds, rounded up").toBe(30);
  });

  it("floors a fractional remaining quota: r must be an Integer, and 2.5 would parse as a Decimal", async () => {
    const store = new FakeStore({ extraRemaining: 0.5 });
    const { app } = api({ limiter: store });
    const res = await viaProxy(app, "203.0.113.7");
    const [, params] = onlyItem(res.headers["ratelimit"], "RateLimit");
    expect(params.get("r"), "a token bucket can hold 2.5 tokens; only 2 whole requests fit").toBe(2);
  });

  it("carries both fields on a 429 and on a 404 too", async () => {
    const { app } = api();
    const notFound = await viaProxy(app, "203.0.113.7", "/missing");
    expect(notFound.status).toBe(404);
    onlyItem(notFound.headers["ratelimit-policy"], "RateLimit-Policy (on a 404)");
    onlyItem(notFound.headers["ratelimit"], "RateLimit (on a 404)");
    for (let i = 0; i < QUOTA; i++) await viaProxy(app, "203.0.113.7");
    const refused = await viaProxy(app, "203.0.113.7");
    expect(refused.status).toBe(429);
    onlyItem(refused.headers["ratelimit-policy"], "RateLimit-Policy (on a 429)");
    const [, params] = onlyItem(refused.headers["ratelimit"], "RateLimit (on a 429)");
    expect(params.get("r"), "nothing remains when refused").toBe(0);
  });

  it("serialises a policy name with a quote and a backslash as a valid sf-string", async () => {
    const name = 'team "a\\b"';
    const { app } = api({ policy: { ...POLICY, name } });
    const res = await viaProxy(app, "203.0.113.7");
    expect(
      onlyItem(res.headers["ratelimit-policy"], "RateLimit-Policy")[0],
      "quotes and backslashes must be escaped, or the field is malformed and clients must ignore it",
    ).toBe(name);
    expect(onlyItem(res.headers["ratelimit"], "RateLimit")[0]).toBe(name);
  });

  it("sends no partition key (pk), which would echo the client's address or user id back", async () => {
    const { app } = api();
    const res = await viaProxy(app, "203.0.113.7");
    expect([...onlyItem(res.headers["ratelimit-policy"], "RateLimit-Policy")[1].keys()].sort()).toEqual(["q", "w"]);
    expect([...onlyItem(res.headers["ratelimit"], "RateLimit")[1].keys()].sort()).toEqual(["r", "t"]);
  });

  it("refuses a policy the fields cannot carry with RangeError", () => {
    const limiter = new FakeStore();
    const make = (policy: typeof POLICY) => () => rateLimit({ limiter, policy, onLimiterError: "fail-open" });
    expect(make({ ...POLICY, quota: 1.5 }), "q must be an Integer").toThrow(RangeError);
    expect(make({ ...POLICY, quota: -1 }), "q must be non-negative").toThrow(RangeError);
    expect(make({ ...POLICY, windowSeconds: 0 }), "w must be non-zero").toThrow(RangeError);
    expect(make({ ...POLICY, windowSeconds: 0.5 }), "w has no sub-second precision").toThrow(RangeError);
    expect(make({ ...POLICY, name: "café" }), "an sf-string holds printable ASCII only").toThrow(RangeError);
    expect(make({ ...POLICY, quota: 1e15 }), "an sf-integer has at most 15 digits").toThrow(RangeError);
    expect(make({ ...POLICY, windowSeconds: 1e15 }), "w is an sf-integer too").toThrow(RangeError);
    expect(make({ ...POLICY, quota: -1 }), "the message names the field at fault").toThrow(mentions("quota"));
    expect(make({ ...POLICY, windowSeconds: 0 }), "the message names the field at fault").toThrow(
      mentions("windowSeconds"),
    );
    expect(make({ ...POLICY, name: "café" }), "the message names the field at fault").toThrow(mentions("name"));
  });

  it("accepts the edges of what the fields can carry: q=0, w=1 and a 15-digit quota", () => {
    const limiter = new FakeStore();
    const make = (policy: typeof POLICY) => () => rateLimit({ limiter, policy, onLimiterError: "fail-open" });
    expect(make({ ...POLICY, quota: 0 }), "a quota of 0 is a valid policy: nothing allowed").not.toThrow();
    expect(make({ ...POLICY, windowSeconds: 1 })).not.toThrow();
    expect(make({ ...POLICY, quota: 999_999_999_999_999, windowSeconds: 999_999_999_999_999 })).not.toThrow();
  });

  it("refuses a limiter timeout that is not a positive number with RangeError", () => {
    const limiter = new FakeStore();
    expect(
      () => rateLimit({ limiter, policy: POLICY, onLimiterError: "fail-open", limiterTimeoutMs: 0 }),
      "a zero timeout fails every request",
    ).toThrow(RangeError);
    expect(() =>
      rateLimit({ limiter, policy: POLICY, onLimiterError: "fail-open", limiterTimeoutMs: Number.NaN }),
    ).toThrow(RangeError);
    expect(
      () =>
        rateLimit({ limiter, policy: POLICY, onLimiterError: "fail-open", limiterTimeoutMs: Number.POSITIVE_INFINITY }),
      "an infinite timeout is no timeout: a hung store hangs every request; the message names the option",
    ).toThrow(mentions("limiterTimeoutMs"));
  });
});

describe("429 Too Many Requests", () => {
  it("refuses requests past the quota without calling the handler", async () => {
    const { app, served } = api();
    expect(await statuses(() => viaProxy(app, "203.0.113.7"), 5)).toEqual([200, 200, 200, 429, 429]);
    expect(served(), "a refused request must not reach the work it protects").toBe(QUOTA);
  });

  it("sends Retry-After as whole delay-seconds, rounded up, and no earlier than the RateLimit reset", async () => {
    const { app } = api();
    for (let i = 0; i < QUOTA; i++) await viaProxy(app, "203.0.113.7");
    const refused = await viaProxy(app, "203.0.113.7");
    expect(
      refused.headers["retry-after"],
      "RFC 9110 delay-seconds are digits only; 1.5 s rounded down would bring the client back too early",
    ).toBe("2");
    const [, params] = onlyItem(refused.headers["ratelimit"], "RateLimit");
    expect(params.get("t") as number, "the draft: Retry-After SHOULD NOT point earlier than t").toBeLessThanOrEqual(2);
  });

  it("rounds every wait up to the next whole second, and leaves a whole second as it is", async () => {
    const cases = [
      {
        retryAfterMs: 1_001,
        resetAfterMs: 29_001,
        retryAfter: "2",
        t: 30,
        why: "29.001 s and 1.001 s rounded to the nearest second are 29 and 1: the client would come back too early",
      },
      {
        retryAfterMs: 2_000,
        resetAfterMs: 29_000,
        retryAfter: "2",
        t: 29,
        why: "2 s is 2 s: a floor + 1 makes every client wait a second longer than needed",
      },
    ];
    for (const { why, ...answer } of cases) {
      const { app } = api({ limiter: new FakeStore(answer) });
      const allowed = await viaProxy(app, "203.0.113.7");
      expect(
        onlyItem(allowed.headers["ratelimit"], "RateLimit")[1].get("t"),
        `t for a reset in ${answer.resetAfterMs} ms: ${why}`,
      ).toBe(answer.t);
      for (let i = 1; i < QUOTA; i++) await viaProxy(app, "203.0.113.7");
      const refused = await viaProxy(app, "203.0.113.7");
      expect(refused.headers["retry-after"], `Retry-After for a wait of ${answer.retryAfterMs} ms: ${why}`).toBe(
        answer.retryAfter,
      );
    }
  });

  it("answers with an RFC 9457 problem of type quota-exceeded naming the violated policy", async () => {
    const { app } = api();
    for (let i = 0; i < QUOTA; i++) await viaProxy(app, "203.0.113.7");
    const refused = await viaProxy(app, "203.0.113.7");
    expect(refused.headers["content-type"], "a problem detail has its own media type").toMatch(
      /^application\/problem\+json\b/,
    );
    expect(refused.body.type).toBe(`${PROBLEM_TYPES}#quota-exceeded`);
    expect(refused.body.status, "RFC 9457: status, when present, matches the response").toBe(429);
    expect(refused.body.title, "a short, human-readable summary of the problem type").toMatch(/\S/);
    expect(refused.body["violated-policies"], "the draft's extension member lists the policies exceeded").toEqual([
      "default",
    ]);
  });

  it("omits Retry-After when no wait can help (retryAfterMs is Infinity)", async () => {
    const store = new FakeStore({ retryAfterMs: Number.POSITIVE_INFINITY });
    const { app } = api({ limiter: store });
    for (let i = 0; i < QUOTA; i++) await viaProxy(app, "203.0.113.7");
    const refused = await viaProxy(app, "203.0.113.7");
    expect(refused.status).toBe(429);
    expect(
      refused.headers["retry-after"],
      "'Retry-After: Infinity' is malformed, and any number would be a lie",
    ).toBeUndefined();
    const [, params] = onlyItem(refused.headers["ratelimit"], "RateLimit (refused for good)");
    expect(params.get("r"), "the remaining quota is still worth reporting").toBe(0);
  });
});

describe("partition keys and trust proxy", () => {
  it("gives two clients behind the trusted proxy their own quotas", async () => {
    const { app } = api();
    expect(await statuses(() => viaProxy(app, "203.0.113.7"), 4)).toEqual([200, 200, 200, 429]);
    expect(
      (await viaProxy(app, "198.51.100.9")).status,
      "with trust proxy off, every client is the proxy and all share one quota",
    ).toBe(200);
  });

  it("keeps a client that spoofs X-Forwarded-For in its own bucket", async () => {
    const { app } = api();
    // The client sends its own X-Forwarded-For; the trusted proxy appends the address it really saw.
    const codes = await statuses((i) => viaProxy(app, `10.0.0.${i + 1}, 203.0.113.7`), 6);
    expect(codes, "with trust proxy = true, req.ip is the leftmost entry, which the client chooses").toEqual([
      200, 200, 200, 429, 429, 429,
    ]);
  });

  it("ignores X-Forwarded-For from a peer that is not a configured proxy", async () => {
    const { app } = api({ trustedProxies: ["192.0.2.10"] });
    const codes = await statuses((i) => viaProxy(app, `198.51.100.${i + 1}`), 4);
    expect(
      codes,
      "the peer (loopback) is not the configured proxy, so its header is the client's claim, not a fact",
    ).toEqual([200, 200, 200, 429]);
  });

  it("counts an authenticated user as one partition, whatever address they come from", async () => {
    const { app } = api();
    const codes = await statuses(
      (i) => viaProxy(app, `203.0.113.${i + 1}`).set("Authorization", "Bearer alice-token"),
      4,
    );
    expect(codes, "alice on a phone, a laptop and a VPN is still alice").toEqual([200, 200, 200, 429]);
  });

  it("keeps users apart from each other and from anonymous traffic on the same address", async () => {
    const { app, store } = api();
    for (let i = 0; i < QUOTA; i++) await viaProxy(app, "203.0.113.7").set("Authorization", "Bearer alice-token");
    expect(
      (await viaProxy(app, "203.0.113.7").set("Authorization", "Bearer bob-token")).status,
      "bob behind the same NAT",
    ).toBe(200);
    expect((await viaProxy(app, "203.0.113.7")).status, "anonymous traffic from that address").toBe(200);
    expect(new Set(store.keys).size, "alice, bob and the address are three partitions").toBe(3);
  });

  it("partitions by a verified API key, and an unverified key header never opens a new bucket", async () => {
    const { app } = api();
    const partner = await statuses(() => viaProxy(app, "203.0.113.7").set("X-API-Key", "k-live-123"), 4);
    expect(partner).toEqual([200, 200, 200, 429]);
    const bogus = await statuses((i) => viaProxy(app, "203.0.113.8").set("X-API-Key", `made-up-${i}`), 4);
    expect(bogus, "a header anyone can invent must not pick the bucket: it falls back to the address").toEqual([
      200, 200, 200, 429,
    ]);
  });

  it("treats an IPv4-mapped IPv6 address as the IPv4 client", async () => {
    const { app } = api();
    const codes = await statuses((i) => viaProxy(app, i % 2 === 0 ? "198.51.100.23" : "::ffff:198.51.100.23"), 4);
    expect(codes, "a dual-stack proxy may write either form for the same client").toEqual([200, 200, 200, 429]);
  });

  it("groups IPv6 clients by /64, since one host can rotate through its whole /64", async () => {
    const { app } = api();
    // All in 2001:db8:0:12::/64, written the many ways IPv6 allows (:: anywhere, leading zeros, embedded IPv4).
    const sameSubscriber = [
      "2001:db8:0:12::1",
      "2001:db8::12:abcd:0:0:2",
      "2001:0db8:0000:0012:ffff:ffff:ffff:ffff",
      "2001:db8::12:0:0:203.0.113.7",
    ];
    const codes = await statuses((i) => viaProxy(app, sameSubscriber[i]!), 4);
    expect(codes, "a per-address limit on IPv6 gives one host 2^64 buckets").toEqual([200, 200, 200, 429]);
    expect((await viaProxy(app, "2001:db8:0:13::1")).status, "the next /64 is another subscriber").toBe(200);
    expect((await viaProxy(app, "2001:db8::1")).status, "2001:db8:0:0::/64 is yet another").toBe(200);
  });
});

describe("when the store fails", () => {
  it("fail-open: serves requests while the store is down, logs a warning, and limits again once it is back", async () => {
    const { app, store, warnings, served } = api({ onLimiterError: "fail-open" });
    await viaProxy(app, "203.0.113.7");
    await viaProxy(app, "203.0.113.7");
    store.stop();
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await viaProxy(app, "203.0.113.7"));
    expect(
      during.map((r) => r.status),
      "fail-open keeps the API up while the limiter is down",
    ).toEqual([200, 200, 200]);
    expect(served()).toBe(5);
    expect(warnings.length, "an outage of the limiter must be visible in the logs").toBeGreaterThan(0);
    expect(inspect(warnings, { depth: 5 }), "the warning should carry the store's error").toContain("ECONNREFUSED");
    onlyItem(during[0]!.headers["ratelimit-policy"], "RateLimit-Policy (store down)");
    expect(
      during[0]!.headers["ratelimit"],
      "with the store down there is no remaining quota to report; do not invent one",
    ).toBeUndefined();
    store.start();
    expect(
      await statuses(() => viaProxy(app, "203.0.113.7"), 2),
      "back up: the third request of the quota, then a refusal",
    ).toEqual([200, 429]);
  });

  it("fail-closed: answers 503 with a temporary-reduced-capacity problem and Retry-After, without calling the handler", async () => {
    const { app, store, warnings, served } = api({ onLimiterError: "fail-closed" });
    await viaProxy(app, "203.0.113.7");
    store.stop();
    const refused = await viaProxy(app, "203.0.113.7");
    expect(
      refused.status,
      "the server cannot tell whether the request is within quota: that is unavailability, not a 429",
    ).toBe(503);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json\b/);
    expect(refused.body.type).toBe(`${PROBLEM_TYPES}#temporary-reduced-capacity`);
    expect(refused.body.status).toBe(503);
    expect(refused.headers["retry-after"], "tell clients when to come back, as delay-seconds").toMatch(/^[1-9]\d*$/);
    expect(served(), "fail-closed protects what is behind it").toBe(1);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it("warns once per outage, not once per request, and again when the store fails after recovering", async () => {
    const { app, store, warnings } = api({ onLimiterError: "fail-open" });
    store.stop();
    for (let i = 0; i < 4; i++) await viaProxy(app, "203.0.113.7");
    expect(warnings.length, "four identical warnings in a row bury everything else in the logs during the outage").toBe(
      1,
    );
    store.start();
    await viaProxy(app, "203.0.113.7");
    store.stop();
    await viaProxy(app, "203.0.113.7");
    expect(warnings.length, "a new outage after a recovery is news again").toBe(2);
  });

  it("treats a store that does not answer within limiterTimeoutMs as failed", async () => {
    const open = api({ onLimiterError: "fail-open", limiterTimeoutMs: 50 });
    open.store.hang();
    const status = await viaProxy(open.app, "203.0.113.7").then(
      (res) => res.status,
      () => "no answer within 5 s",
    );
    expect(
      status,
      "a hung store must not hang every request with it: limiterTimeoutMs bounds the wait for the limiter",
    ).toBe(200);
    expect(open.warnings.length).toBeGreaterThan(0);
    const closed = api({ onLimiterError: "fail-closed", limiterTimeoutMs: 50 });
    closed.store.hang();
    expect((await viaProxy(closed.app, "203.0.113.7")).status).toBe(503);
  });

  it("treats a limiter that throws synchronously like one that rejects", async () => {
    const limiter: RateLimiter = {
      consume() {
        throw new Error("connection is closed");
      },
    };
    const { app, served } = api({ limiter, onLimiterError: "fail-closed", logger: undefined });
    expect(
      (await viaProxy(app, "203.0.113.7")).status,
      "the logger is optional; its absence must not turn a 503 into a crash",
    ).toBe(503);
    expect(served()).toBe(0);
  });
});
