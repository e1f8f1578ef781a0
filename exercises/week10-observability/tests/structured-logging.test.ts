import { setTimeout as sleep } from "node:timers/promises";
import { runInNewContext } from "node:vm";
import { manualClock } from "#fixtures/clock";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { currentLogContext, createLogger, LEVELS, type LoggerOptions, withLogContext } from "../src/logger";

/** A logger writing into an array, with a clock the test controls. */
function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const clock = manualClock();
  const log = createLogger({ sink: { write: (line) => void lines.push(line) }, clock, ...options });
  const records = () =>
    lines.map((line) => {
      expect(line.endsWith("\n"), "one record per line, ending with a line feed").toBe(true);
      expect(
        line.slice(0, -1).includes("\n"),
        "a record is one line: a newline inside would split it in two for the pipeline",
      ).toBe(false);
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return expect.fail(`every line must be valid JSON, got ${line}`);
      }
    });
  return { log, lines, clock, records };
}

describe("records: one JSON object per line, pino's shape", () => {
  it("writes level, time from the clock and msg", () => {
    const { log, clock, records } = capture();
    clock.advance(1234);
    log.info("server started");
    expect(records()).toEqual([{ level: 30, time: clock.now(), msg: "server started" }]);
  });

  it("writes pino's numbers for the six levels, and only from the logger's level up", () => {
    const { log, records } = capture({ level: "warn" });
    for (const level of ["trace", "debug", "info", "warn", "error", "fatal"] as const) log[level](level);
    expect(records().map((r) => [r.msg, r.level])).toEqual([
      ["warn", 40],
      ["error", 50],
      ["fatal", 60],
    ]);
    expect(LEVELS).toEqual({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });
    expect(log.isLevelEnabled("warn")).toBe(true);
    expect(log.isLevelEnabled("info")).toBe(false);
    expect(log.level).toBe("warn");
    const silent = capture({ level: "silent" });
    silent.log.fatal("nothing");
    expect(silent.lines).toEqual([]);
    expect(() => createLogger({ sink: { write: () => {} }, level: "verbose" as "info" })).toThrow(RangeError);
  });

  it("builds nothing for a level that is off: the fields are not even read", () => {
    const { log, lines } = capture({ level: "info" });
    let reads = 0;
    log.debug(
      {
        get expensive() {
          reads++;
          return "computed";
        },
      },
      "debugging",
    );
    expect(reads, "a disabled debug line must cost close to nothing on the hot path").toBe(0);
    expect(lines).toEqual([]);
  });

  it("takes fields first and the message second, and leaves msg out when there is none", () => {
    const { log, records } = capture();
    log.info({ userId: 42, plan: "pro" }, "upgraded");
    log.warn({ queueDepth: 9000 });
    const [upgraded, depth] = records();
    expect(upgraded).toMatchObject({ level: 30, userId: 42, plan: "pro", msg: "upgraded" });
    expect(depth, "no message, no msg key").not.toHaveProperty("msg");
    expect(depth).toMatchObject({ level: 40, queueDepth: 9000 });
  });

  it("layers bindings, then context, then the call's fields, and lets none of them forge level, time or msg", () => {
    const { log, clock, lines, records } = capture({ bindings: { service: "checkout", level: "forged" } });
    const db = log.child({ component: "db", region: "eu" }).child({ region: "us", pool: 2 });
    withLogContext({ requestId: "r-1", pool: 3 }, () =>
      db.info({ pool: 4, level: 99, time: 0, msg: "spoofed" }, "query"),
    );
    for (const key of ["service", "component", "region", "requestId", "pool", "level", "time", "msg"]) {
      expect(
        lines[0]!.split(`"${key}":`).length - 1,
        `"${key}" appears once in the line: duplicate keys are read differently by different parsers`,
      ).toBe(1);
    }
    expect(records()[0]).toEqual({
      level: 30,
      time: clock.now(),
      service: "checkout",
      component: "db",
      region: "us",
      requestId: "r-1",
      pool: 4,
      msg: "query",
    });
  });

  it("lets no field forge level, time or msg, even with nothing else to merge", () => {
    const { log, clock, lines, records } = capture();
    log.info({ level: 99, time: 0, msg: "forged", orderId: 7 }, "real");
    expect(records()[0]).toEqual({ level: 30, time: clock.now(), orderId: 7, msg: "real" });
    expect(lines[0]!.split('"level":').length - 1).toBe(1);
  });

  it("writes a context field that a binding also has once, the context's value winning", () => {
    const { log, lines, records } = capture({ bindings: { region: "eu" } });
    withLogContext({ region: "us", requestId: "r-9" }, () => log.info({ orderId: 1 }, "placed"));
    expect(records()[0]).toMatchObject({ region: "us", requestId: "r-9", orderId: 1 });
    expect(lines[0]!.split('"region":').length - 1).toBe(1);
  });

  it("escapes field values: quotes, backslashes, control characters, lone surrogates, long strings", () => {
    const { log, records } = capture();
    const values = {
      quote: 'say "hi"',
      slash: "C:\\temp",
      control: "bell\u0007 tab\t nl\n",
      surrogate: "half \ud800 pair",
      long: `${"x".repeat(70)}"`,
      onlyQuote: '"',
      onlyBackslash: "\\",
      onlyNewline: "\n",
    };
    log.info(values);
    expect(records()[0]).toMatchObject(values);
  });

  it("leaves out fields JSON cannot hold: undefined, functions, symbols", () => {
    const { log, records } = capture();
    log.info({ kept: 1, gone: undefined, fn: () => 1, sym: Symbol("s") }, "x");
    expect(records()[0]).toEqual({ level: 30, time: expect.any(Number), kept: 1, msg: "x" });
  });

  it("writes a fields object's own properties only, as JSON.stringify would", () => {
    const { log, records } = capture();
    const fields = Object.assign(Object.create({ inherited: "from the prototype" }) as object, { own: 1 });
    log.info(fields, "x");
    expect(records()[0], "a field inherited from a prototype is not the caller's data").toEqual({
      level: 30,
      time: expect.any(Number),
      own: 1,
      msg: "x",
    });
  });

  it("keeps a message with line feeds and quotes on one line", () => {
    const { log, records } = capture();
    log.info('user said "hi"\n{"level":60,"msg":"forged line"}');
    expect(records(), "JSON escapes the newline: log injection cannot start a second record").toHaveLength(1);
    expect(records()[0]!.level).toBe(30);
  });
});

describe("context from AsyncLocalStorage", () => {
  it("puts each request's id on every line it logs, across awaits and timers, and on no other", async () => {
    const { log, records } = capture();
    const handle = (requestId: string, delay: number) =>
      withLogContext({ requestId, traceId: `trace-${requestId}` }, async () => {
        log.info("start");
        await sleep(delay);
        await new Promise<void>((resolve) => setTimeout(() => (log.info("timer"), resolve()), delay));
        log.info("end");
      });
    await Promise.all([handle("a", 5), handle("b", 1)]);
    log.info("outside");
    const lines = records();
    expect(lines).toHaveLength(7);
    for (const line of lines.slice(0, -1)) {
      expect(line.traceId, "the trace id travels with the request id").toBe(`trace-${String(line.requestId)}`);
    }
    expect(
      lines.filter((l) => l.requestId === "a").map((l) => l.msg),
      "interleaved requests keep their own context",
    ).toEqual(["start", "timer", "end"]);
    expect(lines.at(-1), "nothing leaks outside the request").not.toHaveProperty("requestId");
  });

  it("merges nested contexts and exposes the current one", () => {
    const { log, records } = capture();
    withLogContext({ requestId: "r-7" }, () => {
      withLogContext({ jobId: "j-1" }, () => {
        expect(currentLogContext()).toEqual({ requestId: "r-7", jobId: "j-1" });
        log.info("inner");
      });
      log.info("outer");
    });
    expect(records().map(({ requestId, jobId }) => ({ requestId, jobId }))).toEqual([
      { requestId: "r-7", jobId: "j-1" },
      { requestId: "r-7", jobId: undefined },
    ]);
    expect(currentLogContext()).toBeUndefined();
  });
});

describe("redaction before serialization", () => {
  const redact = [
    "req.headers.authorization",
    "req.headers.cookie",
    "*.password",
    "token",
    "session",
    'config["api.key"]',
  ];

  it("replaces the values at the configured paths, and only those", () => {
    const { log, lines, records } = capture({ redact });
    const req = {
      method: "GET",
      headers: { authorization: "Bearer eyJhbGciOi.secret", cookie: "sid=s3ss10n", host: "shop.example" },
    };
    log.info(
      {
        req,
        user: { name: "ann", password: "hunter2" },
        token: "tok_live_123",
        config: { "api.key": "k-999", region: "eu" },
      },
      "login",
    );
    const record = records()[0]!;
    expect(record.req).toEqual({
      method: "GET",
      headers: { authorization: "[Redacted]", cookie: "[Redacted]", host: "shop.example" },
    });
    expect(record.user).toEqual({ name: "ann", password: "[Redacted]" });
    expect(record.token).toBe("[Redacted]");
    expect(record.config, "a bracket names a key with a dot in it").toEqual({ "api.key": "[Redacted]", region: "eu" });
    for (const secret of ["eyJhbGciOi", "s3ss10n", "hunter2", "tok_live_123", "k-999"]) {
      expect(lines[0], `${secret} must never reach the sink`).not.toContain(secret);
    }
  });

  it("redacts any value: a string with quotes and backslashes, a number, a whole object", () => {
    const { log, lines, records } = capture({ redact });
    log.info({
      user: { password: 'pa"ss\\",\\"x' },
      token: 98765432,
      session: { id: "sess-abcdef", csrf: "csrf-xyz" },
    });
    const record = records()[0]!;
    expect(record.user, "a regular expression over the serialized line stops at the first escaped quote").toEqual({
      password: "[Redacted]",
    });
    expect(record.token, "a secret that is a number is still a secret").toBe("[Redacted]");
    expect(record.session, "a secret that is an object goes whole").toBe("[Redacted]");
    for (const secret of ['pa\\"ss', "98765432", "sess-abcdef", "csrf-xyz"]) expect(lines[0]).not.toContain(secret);
  });

  it("never changes the caller's objects", () => {
    const { log } = capture({ redact });
    const headers = { authorization: "Bearer keep-me" };
    const req = { headers };
    const user = { password: "keep-me-too" };
    log.info({ req, user });
    expect(req.headers, "the app still needs its Authorization header after the log line").toBe(headers);
    expect(headers.authorization).toBe("Bearer keep-me");
    expect(user.password).toBe("keep-me-too");
  });

  it("redacts bindings and context fields too, with the censor given", () => {
    const { log, lines, records } = capture({ redact, censor: "***" });
    withLogContext({ session: "ctx-secret" }, () => log.child({ token: "bound-secret" }).info("hello"));
    expect(records()[0]).toMatchObject({ token: "***", session: "***" });
    expect(lines[0]).not.toContain("secret");
  });

  it("skips a path that runs into a value that is not an object", () => {
    const { log, records } = capture({ redact: ["user.password", "token.value"] });
    log.info({ user: null, token: "plain-string" }, "odd shapes");
    expect(records()[0]).toMatchObject({ user: null, token: "plain-string", msg: "odd shapes" });
  });

  it("refuses a redaction path it cannot parse with TypeError", () => {
    for (const path of ["", "a..b", "a.", "a[", 'a["b]', "a[b]", 'a[b]["c"]', 'a["b"]c']) {
      expect(() => createLogger({ sink: { write: () => {} }, redact: [path] }), JSON.stringify(path)).toThrow(
        TypeError,
      );
    }
  });
});

describe("errors", () => {
  class PaymentError extends Error {
    readonly code = "E_CARD_DECLINED";
    readonly status = 402;
  }

  it("writes an Error with its type, message, stack and own fields, msg defaulting to its message", () => {
    const { log, records } = capture();
    const error = new PaymentError("card declined");
    log.error(error);
    log.error(error, "checkout failed");
    const [plain, withMsg] = records();
    expect(plain).toMatchObject({
      level: 50,
      msg: "card declined",
      err: { type: "PaymentError", message: "card declined", stack: error.stack, code: "E_CARD_DECLINED", status: 402 },
    });
    expect(withMsg!.msg).toBe("checkout failed");
  });

  it("serializes an Error under any top-level field instead of writing {}", () => {
    const { log, records } = capture();
    log.warn({ err: new Error("under err") });
    log.warn({ failure: new RangeError("under failure"), attempt: 3 }, "retrying");
    const [a, b] = records();
    expect(a!.err, "message and stack are not enumerable: JSON.stringify(error) is {}").toMatchObject({
      type: "Error",
      message: "under err",
    });
    expect(b!.failure).toMatchObject({ type: "RangeError", message: "under failure" });
    expect(b!.attempt).toBe(3);
  });

  it("keeps the whole cause chain, whatever the causes are", () => {
    const { log, records } = capture();
    const root = new TypeError("socket closed", { cause: "ECONNRESET" });
    log.error(new Error("charge failed", { cause: new Error("gateway timeout", { cause: root }) }));
    const err = records()[0]!.err as Record<string, any>;
    expect(err.message).toBe("charge failed");
    expect(err.cause).toMatchObject({ type: "Error", message: "gateway timeout" });
    expect(err.cause.cause).toMatchObject({ type: "TypeError", message: "socket closed", stack: root.stack });
    expect(err.cause.cause.cause, "a cause that is not an Error is kept as it is").toBe("ECONNRESET");
  });

  it("writes a cause cycle once around, without hanging or crashing", () => {
    const { log, records } = capture();
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    const self = new Error("self");
    (self as { cause?: unknown }).cause = self;
    log.error(a);
    log.error(self);
    const chain: string[] = [];
    let node: unknown = records()[0]!.err;
    while (node !== null && typeof node === "object") {
      chain.push((node as { message: string }).message);
      node = (node as { cause?: unknown }).cause;
    }
    expect(chain, "a, then b, then the cycle is cut").toEqual(["a", "b"]);
    const b2 = (records()[0]!.err as { cause: { cause?: unknown } }).cause;
    expect(b2.cause, "b's cause is a again: an error met twice is written as [Circular]").toBe("[Circular]");
    expect((records()[1]!.err as { cause?: unknown }).cause, "an error that is its own cause").toBe("[Circular]");
  });

  it("serializes errors from another realm and objects built on Error.prototype", () => {
    const { log, records } = capture();
    const foreign = runInNewContext('new TypeError("from a vm context")') as Error;
    expect(foreign instanceof Error, "another realm's TypeError is not an instance of this realm's Error").toBe(false);
    log.warn({ foreign, fake: Object.create(Error.prototype, { message: { value: "prototype only" } }) });
    const record = records()[0]!;
    expect(record.foreign, "util.types.isNativeError knows it").toMatchObject({
      type: "TypeError",
      message: "from a vm context",
    });
    expect(record.fake).toMatchObject({ message: "prototype only" });
  });

  it("names the type after the class, or after error.name when the class has none", () => {
    const { log, records } = capture();
    const Anonymous = class extends Error {};
    Object.defineProperty(Anonymous, "name", { value: "" });
    const error = new Anonymous("nameless");
    error.name = "LegacyError";
    log.error(error);
    expect((records()[0]!.err as { type: string }).type).toBe("LegacyError");
  });

  it("writes a placeholder for an error field whose getter throws", () => {
    const { log, records } = capture();
    const error = new Error("has a bad getter");
    Object.defineProperty(error, "code", {
      enumerable: true,
      get: () => {
        throw new Error("getter exploded");
      },
    });
    log.error(error);
    expect(String((records()[0]!.err as { code: unknown }).code)).toContain("Unserializable");
  });

  it("writes an AggregateError's errors", () => {
    const { log, records } = capture();
    log.error(new AggregateError([new Error("replica 1 down"), new Error("replica 2 down")], "no replica answered"));
    const err = records()[0]!.err as { aggregateErrors: Array<{ message: string }> };
    expect(err.aggregateErrors.map((e) => e.message)).toEqual(["replica 1 down", "replica 2 down"]);
  });
});

describe("a logger never throws at the caller", () => {
  it("writes objects with cycles, BigInts, throwing getters and a throwing toJSON", () => {
    const { log, records } = capture();
    const loop: Record<string, unknown> = { name: "loop", nested: { big: 1n } };
    loop.self = loop;
    loop.list = [1, loop];
    const fields = {
      loop,
      big: 12345678901234567890n,
      get broken(): string {
        throw new Error("getter exploded");
      },
      weird: {
        toJSON: () => {
          throw new Error("toJSON exploded");
        },
      },
      ok: true,
    };
    expect(() => log.info(fields, "odd fields"), "a log call that throws turns a warning into an outage").not.toThrow();
    const record = records()[0]!;
    expect(record.msg).toBe("odd fields");
    expect(record.ok).toBe(true);
    expect(record.loop).toEqual({ name: "loop", nested: { big: "1" }, self: "[Circular]", list: [1, "[Circular]"] });
    expect(record.big).toBe("12345678901234567890");
    expect(String(record.broken)).toContain("Unserializable");
    expect(String(record.weird)).toContain("Unserializable");
  });

  it("survives an object nested deeper than JSON.stringify's stack", () => {
    const { log, lines } = capture();
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20_000; i++) deep = deep.next = {};
    expect(() => log.info({ root }, "deep")).not.toThrow();
    expect(lines).toHaveLength(1);
  });

  it("still writes a line when the record cannot be built at all", () => {
    const { log, records } = capture();
    const error = new Error("x");
    Object.defineProperty(error, "message", {
      get: () => {
        throw new Error("message getter exploded");
      },
    });
    expect(() => log.error(error)).not.toThrow();
    expect(records()[0]).toMatchObject({ level: 50, time: expect.any(Number) });
  });

  it("ignores a sink that throws", () => {
    const log = createLogger({
      sink: {
        write: () => {
          throw new Error("disk full");
        },
      },
    });
    expect(() => log.error("still fine")).not.toThrow();
  });
});

describe("the record shape of pino 10.4.0", () => {
  const redact = ["req.headers.authorization", "*.password"];

  /** What both loggers offer: the calls the comparison makes. */
  interface Common {
    info(obj: object | string, msg?: string): void;
    error(obj: object, msg?: string): void;
    child(bindings: Record<string, unknown>): Common;
  }

  function both(calls: (log: Common) => void) {
    const theirs: string[] = [];
    const clock = manualClock();
    const reference = pino(
      {
        base: null,
        timestamp: () => `,"time":${clock.now()}`,
        redact,
        mixin: () => ({ ...currentLogContext() }),
        serializers: { err: pino.stdSerializers.errWithCause },
      },
      { write: (line: string) => void theirs.push(line) },
    );
    const ours = capture({ redact, clock });
    ours.clock.set(clock.now());
    withLogContext({ requestId: "r-42" }, () => {
      calls(reference as unknown as Common);
      calls(ours.log);
    });
    return { expected: theirs.map((l) => JSON.parse(l) as unknown), actual: ours.records() };
  }

  it("for messages, fields, child bindings, context and redaction", () => {
    const { expected, actual } = both((log) => {
      log.info("plain");
      log.info({ req: { method: "POST", headers: { authorization: "Bearer x", accept: "*/*" } } }, "with fields");
      log.child({ component: "payments", user: { id: 7, password: "pw" } }).info({ amount: 12.5 }, "child");
    });
    expect(actual).toEqual(expected);
  });

  it("for errors and their causes", () => {
    const error = Object.assign(new Error("outer", { cause: new TypeError("inner") }), { code: "E_OUTER" });
    const { expected, actual } = both((log) => {
      log.error(error);
      log.error({ err: error }, "wrapped");
    });
    expect(actual).toEqual(expected);
  });
});
