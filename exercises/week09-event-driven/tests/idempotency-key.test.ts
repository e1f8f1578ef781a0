import { randomUUID } from "node:crypto";
import express, { type RequestHandler } from "express";
import { parseItem } from "structured-headers";
import request from "supertest";
import { beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { useRedis } from "#fixtures/redis";
import { tcpRelay } from "#fixtures/tcp-relay";
import { parseIdempotencyKey, requestFingerprint } from "../src/idempotency-key";
import { idempotency, type IdempotencyOptions } from "../src/idempotency-middleware";
import { subNamespace } from "./support/redis-namespace";
import { gate, until } from "./support/waiting";

const redis = useRedis();
let client: Redis;
beforeAll(() => {
  client = redis.client();
});

const quoted = (key: string) => `"${key}"`;
const newKey = () => quoted(randomUUID());

interface Api {
  app: express.Express;
  /** Bodies the handler ran with, in order. */
  calls: unknown[];
}

/**
 * An API with POST /payments and POST /refunds behind the middleware. A stand-in for
 * authentication puts the client id (the X-Client header) in res.locals. The handler answers
 * 201 with a Location and the call number, unless `respond` says otherwise.
 */
function api(overrides: Partial<IdempotencyOptions> = {}, respond?: RequestHandler, redisClient: Redis = client): Api {
  const calls: unknown[] = [];
  const app = express();
  app.use(express.json());
  app.use((req, res, next) => {
    res.locals.clientId = req.get("x-client") ?? "client-a";
    next();
  });
  const clientIdOf: IdempotencyOptions["clientIdOf"] = (_req, res) => String(res.locals.clientId);
  const guard = idempotency({ redis: redisClient, clientIdOf, ...overrides });
  const handler: RequestHandler = (req, res, next) => {
    calls.push(req.body);
    if (respond) return respond(req, res, next);
    res
      .status(201)
      .location(`/payments/${calls.length}`)
      .json({ call: calls.length, ...req.body });
  };
  app.post("/payments", guard, handler);
  app.post("/refunds", guard, handler);
  return { app, calls };
}

const pay = (app: express.Express, key: string | undefined, body: object = { amount: 100 }, path = "/payments") => {
  const req = request(app).post(path);
  if (key !== undefined) req.set("Idempotency-Key", key);
  return req.send(body);
};

function expectProblem(res: request.Response, status: number, why: string) {
  expect(res.status, why).toBe(status);
  expect(res.headers["content-type"], "refusals are RFC 9457 problem documents").toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(res.text) as Record<string, unknown>;
  expect(problem.status, "the status member repeats the HTTP status").toBe(status);
  expect(typeof problem.title === "string" && problem.title.length > 0, "a problem has a title").toBe(true);
  const typed = typeof problem.type === "string" && problem.type.length > 0;
  expect(typed, "a problem has a type (a URI, or about:blank)").toBe(true);
}

describe("reads Idempotency-Key as a Structured Field String", () => {
  it.each([
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"],
    ['"a\\"b"', 'a"b'],
    ['"back\\\\slash"', "back\\slash"],
    ['"with spaces inside"', "with spaces inside"],
    ['"k";expires=1', "k"],
  ])("reads %s as %j", (header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it.each([
    ["a missing header", undefined],
    ["an empty header", ""],
    ["a bare token", "key-8e03978e"],
    ["an Integer", "42"],
    ["two keys, as two header lines give", '"a", "b"'],
    ["an unterminated String", '"abc'],
    ["the empty String", '""'],
    ['an escape that is not \\\\ or \\"', '"a\\b"'],
    ["a non-ASCII character", '"clé"'],
    ["a Boolean", "?1"],
  ])("refuses %s", (_name, header) => {
    expect(
      parseIdempotencyKey(header),
      "the draft makes the key a quoted String; anything else is malformed",
    ).toBeUndefined();
  });

  it("agrees with the structured-headers parser on a range of inputs", () => {
    const inputs = ['"x"', "x", '"x" ', ' "x"', '"x";a', '"x";a=', '"x"y', "'x'", '"\t"', '"~!@#"', '"é"', '"a\\\\"'];
    inputs.push('""', "1.5", ":aGk=:");
    for (const input of inputs) {
      let expected: string | undefined;
      try {
        const [bare] = parseItem(input);
        expected = typeof bare === "string" && bare.length > 0 ? bare : undefined;
      } catch {
        expected = undefined;
      }
      expect(parseIdempotencyKey(input), `Idempotency-Key: ${input}`).toBe(expected);
    }
  });
});

describe("fingerprints the operation, not the envelope", () => {
  const base = { method: "POST", originalUrl: "/payments", body: { amount: 100, to: "acc-1" } };

  it("gives a true retry the same fingerprint", () => {
    expect(requestFingerprint({ ...base, body: { amount: 100, to: "acc-1" } })).toBe(requestFingerprint(base));
  });

  it.each([
    ["another amount", { body: { amount: 101, to: "acc-1" } }],
    ["a nested change", { body: { amount: 100, to: "acc-1", meta: { a: 1 } } }],
    ["another path", { originalUrl: "/refunds" }],
    ["another query", { originalUrl: "/payments?dryRun=true" }],
    ["another method", { method: "PUT" }],
  ])("gives a request with %s another fingerprint", (_name, change) => {
    expect(
      requestFingerprint({ ...base, ...change }),
      "a different request reusing the key must be told apart",
    ).not.toBe(requestFingerprint(base));
  });
});

describe("runs the operation once and replays its answer", () => {
  it("answers a retry with the stored status, body, Content-Type and Location, without running the handler again", async () => {
    const { app, calls } = api();
    const key = newKey();
    const first = await pay(app, key);
    expect(first.status).toBe(201);
    const retry = await pay(app, key)
      .set("User-Agent", "retrying-client/2")
      .set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(
      retry.status,
      "a retry whose User-Agent or traceparent changed is the same request: headers are not fingerprinted",
    ).toBe(201);
    expect(calls, "the retry must be answered from the store").toHaveLength(1);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers["content-type"]).toBe(first.headers["content-type"]);
    expect(retry.headers.location, "Location is part of a 201's answer").toBe(first.headers.location);
  });

  it("replays an error answer too", async () => {
    const declined: RequestHandler = (_req, res) => {
      const problem = { type: "about:blank", title: "Payment Required", status: 402 };
      res.status(402).type("application/problem+json").send(JSON.stringify(problem));
    };
    const { app, calls } = api({}, declined);
    const key = newKey();
    const first = await pay(app, key);
    const retry = await pay(app, key);
    expect(calls, "a declined payment is an answer: retrying it must not charge again").toHaveLength(1);
    expect(retry.status).toBe(402);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.location, "a header the answer did not have is not invented").toBeUndefined();
  });

  it("replays an answer written in parts, and an empty one", async () => {
    const streamed = api({}, (_req, res) => {
      res.status(200).type("text/plain");
      res.write("hello, ");
      res.write(Buffer.from("wörld"));
      res.write("2c20c3a4", "hex"); // ", ä" as UTF-8, handed over in hex
      res.end(() => {});
    });
    const key = newKey();
    expect((await pay(streamed.app, key)).text).toBe("hello, wörld, ä");
    const again = await pay(streamed.app, key);
    expect(again.text, "every chunk written counts: buffers, and strings in the encoding they came with").toBe(
      "hello, wörld, ä",
    );
    expect(streamed.calls).toHaveLength(1);

    const empty = api({}, (_req, res) => {
      res.status(204).end();
    });
    const emptyKey = newKey();
    await pay(empty.app, emptyKey);
    expect((await pay(empty.app, emptyKey)).status, "an answer without a body is an answer too").toBe(204);
    expect(empty.calls).toHaveLength(1);
  });

  it("keeps answers up to maxStoredBodyBytes, and runs again what was too large to keep", async () => {
    const { app, calls } = api({ maxStoredBodyBytes: 10 }, (req, res) => {
      res.type("text/plain").send("x".repeat((req.body as { size: number }).size));
    });
    const fits = newKey();
    await pay(app, fits, { size: 10 });
    await pay(app, fits, { size: 10 });
    expect(calls, "an answer of exactly maxStoredBodyBytes is kept and replayed").toHaveLength(1);
    const tooLarge = newKey();
    await pay(app, tooLarge, { size: 11 });
    const retried = await pay(app, tooLarge, { size: 11 });
    expect(retried.status, "a larger one is not kept, and its key is not left locked either").toBe(200);
    expect(calls, "so the retry runs the handler again").toHaveLength(3);
  });

  it("answers 422 to the same key with another body, and still replays the original", async () => {
    const { app, calls } = api();
    const key = newKey();
    const first = await pay(app, key, { amount: 100 });
    const reused = await pay(app, key, { amount: 999 });
    expectProblem(reused, 422, "a fingerprint over the headers alone misses a changed body");
    expect(calls).toHaveLength(1);
    expect((await pay(app, key, { amount: 100 })).body).toEqual(first.body);
  });

  it("answers 422 to the same key on another endpoint", async () => {
    const { app, calls } = api();
    const key = newKey();
    await pay(app, key);
    const elsewhere = await pay(app, key, { amount: 100 }, "/refunds");
    expectProblem(elsewhere, 422, "the key belongs to the operation it was first used for");
    expect(calls).toHaveLength(1);
  });
});

describe("refuses what it cannot make safe", () => {
  it("answers 400 to a request without the key when the key is required", async () => {
    const { app, calls } = api();
    expectProblem(await pay(app, undefined), 400, "without a key a retry cannot be recognised");
    expect(calls).toHaveLength(0);
  });

  it("lets a request without the key through when the key is optional", async () => {
    const { app, calls } = api({ required: false });
    expect((await pay(app, undefined)).status).toBe(201);
    expect((await pay(app, undefined)).status).toBe(201);
    expect(calls, "without a key there is nothing to deduplicate on").toHaveLength(2);
  });

  it.each([
    ["an unquoted key", "key-8e03978e"],
    ["an empty String", '""'],
  ])("answers 400 to %s", async (_name, header) => {
    const { app, calls } = api({ required: false });
    expectProblem(await pay(app, header), 400, "a malformed key is refused, even where the key is optional");
    expect(calls).toHaveLength(0);
  });
});

describe("keeps concurrent retries out", () => {
  it("answers 409 while the first request is in flight, and the first answer afterwards", async () => {
    const entered = gate();
    const release = gate();
    const { app, calls } = api({}, async (req, res) => {
      entered.open();
      await release.opened;
      res.status(201).json({ done: true, ...req.body });
    });
    const key = newKey();
    const first = pay(app, key).then((r) => r);
    try {
      await Promise.race([entered.opened, first]);
      expectProblem(await pay(app, key), 409, "a retry while the original runs must not run it a second time");
    } finally {
      release.open();
    }
    expect((await first).status).toBe(201);
    const after = await pay(app, key);
    expect(after.status, "the 409 is not an answer to store: the original's answer is").toBe(201);
    expect(after.body).toEqual({ done: true, amount: 100 });
    expect(calls).toHaveLength(1);
  });

  it("runs one of ten concurrent requests with one key across two app instances", async () => {
    const release = gate();
    let entered = 0;
    const hold: RequestHandler = async (_req, res) => {
      entered += 1;
      await release.opened;
      res.status(201).json({ ok: true });
    };
    const instances = [api({}, hold, redis.client()), api({}, hold, redis.client())];
    const key = newKey();
    let settled = 0;
    const responses = Array.from({ length: 10 }, (_, i) =>
      pay(instances[i % 2]!.app, key).then((r) => {
        settled += 1;
        return r;
      }),
    );
    try {
      // Nine refusals arrive while one request is held in the handler; a claim that is not
      // atomic lets several in, and they wait until the bound.
      await until(
        async () => settled,
        (n) => n >= 9,
        5_000,
      );
    } finally {
      release.open();
    }
    const statuses = (await Promise.all(responses)).map((r) => r.status).sort();
    expect(statuses, "the claim must be atomic: GET-then-SET lets several requests through").toEqual([
      201,
      ...Array(9).fill(409),
    ]);
    expect(entered).toBe(1);
  });
});

describe("scopes keys to the client", () => {
  it("treats one key from two clients as two keys", async () => {
    const { app, calls } = api();
    const key = newKey();
    const a = await pay(app, key, { amount: 100 }).set("X-Client", "client-a");
    const b = await pay(app, key, { amount: 250 }).set("X-Client", "client-b");
    expect(b.status, "client B's request is not a reuse of client A's key").toBe(201);
    expect(b.body, "and B must never see A's stored answer").toEqual({ call: 2, amount: 250 });
    expect(a.body).toEqual({ call: 1, amount: 100 });
    expect(calls).toHaveLength(2);
  });
});

describe("expires what it keeps", () => {
  it("keeps a claim no longer than lockTimeoutMs and an answer for expirySeconds", async () => {
    const store = subNamespace(redis);
    const entered = gate();
    const release = gate();
    const { app } = api(
      { lockTimeoutMs: 30_000, expirySeconds: 3_600 },
      async (_req, res) => {
        entered.open();
        await release.opened;
        res.status(201).json({ ok: true });
      },
      store.client,
    );
    const first = pay(app, newKey()).then((r) => r);
    let inFlight: number[] = [];
    try {
      await Promise.race([entered.opened, first]);
      inFlight = await store.ttls();
    } finally {
      release.open();
    }
    await first;
    expect(inFlight.length, "the claim is in Redis while the request runs").toBeGreaterThan(0);
    for (const ttl of inFlight) {
      expect(ttl, "a claim without an expiry locks the key forever when its instance crashes").toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
    }
    const stored = await store.ttls();
    expect(stored.length).toBeGreaterThan(0);
    for (const ttl of stored) {
      expect(ttl, "the answer is kept for the published expiry, not for the lock's").toBeGreaterThan(30_000);
      expect(ttl, "and not longer").toBeLessThanOrEqual(3_600_000);
    }
  });

  it("stores the answer before sending it, so a client that got it and retries finds it stored", async () => {
    const store = subNamespace(redis);
    // The middleware's Redis sits behind a relay the test slows down: the write of the answer
    // then takes a while, and an answer sent before it is stored reaches the client first.
    const relay = await tcpRelay(redis.url);
    const slow = new Redis(relay.url(redis.url), { keyPrefix: store.prefix, maxRetriesPerRequest: 1 });
    slow.on("error", () => {});
    try {
      const { app } = api(
        { lockTimeoutMs: 30_000, expirySeconds: 3_600 },
        (_req, res) => {
          relay.delay(250);
          res.status(201).json({ ok: true });
        },
        slow,
      );
      expect((await pay(app, newKey())).status).toBe(201);
      const ttls = await store.ttls();
      expect(
        ttls.some((ttl) => ttl > 30_000),
        "the client has its answer: a retry now must find it stored, not in flight (409)",
      ).toBe(true);
    } finally {
      relay.delay(0);
      slow.disconnect();
      await relay.close();
    }
  });

  it("lets a retry run once a crashed request's claim expired, and the late original does not overwrite its answer", async () => {
    const release = gate();
    let calls = 0;
    const { app } = api({ lockTimeoutMs: 300 }, async (_req, res) => {
      const call = ++calls;
      if (call === 1) await release.opened; // the first instance hangs: for the others it crashed
      res.status(201).json({ call });
    });
    const key = newKey();
    const zombie = pay(app, key).then((r) => r);
    let retried: request.Response;
    try {
      await until(
        async () => calls,
        (n) => n >= 1,
        5_000,
      );
      retried = await until(
        () => pay(app, key),
        (r) => r.status !== 409,
        5_000,
      );
    } finally {
      release.open();
    }
    expect(retried.status, "an abandoned claim must expire (lockTimeoutMs), or the key is locked forever").toBe(201);
    expect(retried.body).toEqual({ call: 2 });
    expect((await zombie).body, "the original still answers its own client").toEqual({ call: 1 });
    const later = await pay(app, key);
    expect(
      later.body,
      "a request that lost its claim must not overwrite the answer of the one that took it over",
    ).toEqual({ call: 2 });
    expect(calls).toBe(2);
  });
});
