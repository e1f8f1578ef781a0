import { EventEmitter, once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setImmediate as immediate, setTimeout as sleep } from "node:timers/promises";
import { manualClock } from "#fixtures/clock";
import { afterEach, describe, expect, it } from "vitest";
import { type FinishedSpan, type Span, Tracer } from "../src/tracer";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function recording(options: ConstructorParameters<typeof Tracer>[0] = {}) {
  const finished: FinishedSpan[] = [];
  const tracer = new Tracer({ ...options, onEnd: (span) => finished.push(span) });
  return { tracer, finished };
}

describe("spans and their parents", () => {
  it("starts a new trace with valid random ids, sampled, with Level 2's random flag", () => {
    const { tracer } = recording();
    const a = tracer.startSpan("a");
    const b = tracer.startSpan("b");
    expect(a.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.context.traceId, "two root spans are two traces").not.toBe(b.context.traceId);
    expect(a.parentSpanId).toBeUndefined();
    expect(a.context.flags, "sampled (0x01) and random-trace-id (0x02): we generated it randomly").toBe(0x03);
    expect(
      new Tracer({ sampled: false }).startSpan("x").context.flags & 0x01,
      "a tracer that does not sample says so",
    ).toBe(0);
  });

  it("gives a child the parent's trace-id and tracestate, a new span id, and the parent's span id", () => {
    const { tracer } = recording();
    const remote = tracer.extract({
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
      tracestate: "rojo=1",
    });
    expect(remote).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      remote: true,
    });
    const child = tracer.startSpan("handler", { parent: remote });
    expect(child.context.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(child.parentSpanId).toBe("00f067aa0ba902b7");
    expect(child.context.spanId).not.toBe("00f067aa0ba902b7");
    expect(child.context.tracestate).toEqual([["rojo", "1"]]);
    expect(child.context.remote, "a span of this process is not remote").toBe(false);
    expect(tracer.startSpan("root").context.remote).toBe(false);
    expect(child.context.flags, "sampled is inherited; bit 3 is undefined and sent as 0").toBe(0x01);
    const root = tracer.startSpan("fresh", { parent: null });
    expect(root.context.traceId, "parent: null starts a new trace even inside another").not.toBe(child.context.traceId);
  });

  it("ends a span once, with the clock's times, and reports it", () => {
    const clock = manualClock();
    const { tracer, finished } = recording({ clock });
    const span = tracer.startSpan("work").setAttribute("rows", 3);
    clock.advance(40);
    span.end();
    span.end("error");
    expect(span.ended).toBe(true);
    expect(finished, "a second end() must not export the span twice").toHaveLength(1);
    expect(finished[0]).toMatchObject({
      name: "work",
      status: "ok",
      startMs: clock.now() - 40,
      endMs: clock.now(),
      attributes: { rows: 3 },
    });
  });
});

describe("the active span in AsyncLocalStorage", () => {
  it("follows awaits, timers, immediates, nextTick and promise callbacks", async () => {
    const { tracer } = recording();
    const seen: Array<[string, Span | undefined]> = [];
    await tracer.startActiveSpan("request", async (span) => {
      await sleep(1);
      seen.push(["after await", tracer.activeSpan()]);
      await new Promise<void>((resolve) =>
        setTimeout(() => (seen.push(["setTimeout", tracer.activeSpan()]), resolve()), 1),
      );
      await new Promise<void>((resolve) =>
        setImmediate(() => (seen.push(["setImmediate", tracer.activeSpan()]), resolve())),
      );
      await new Promise<void>((resolve) =>
        process.nextTick(() => (seen.push(["nextTick", tracer.activeSpan()]), resolve())),
      );
      await Promise.resolve().then(() => seen.push(["then", tracer.activeSpan()]));
      for (const [where, active] of seen) expect(active, `${where}: the context must survive`).toBe(span);
    });
    expect(seen).toHaveLength(5);
  });

  it("keeps two concurrent requests in their own traces across interleaved awaits", async () => {
    const { tracer, finished } = recording();
    const step = async (name: string, ms: number) => {
      await sleep(ms);
      tracer.startSpan(name).end();
    };
    const request = (name: string, first: number, second: number) =>
      tracer.startActiveSpan(name, async () => {
        await step(`${name}.db`, first);
        await step(`${name}.cache`, second);
      });
    await Promise.all([request("A", 5, 1), request("B", 1, 5)]);
    const byName = new Map(finished.map((s) => [s.name, s]));
    for (const name of ["A", "B"]) {
      for (const child of [`${name}.db`, `${name}.cache`]) {
        expect(
          byName.get(child)?.parentSpanId,
          `${child} belongs to ${name}: one global "current span" mixes interleaved requests`,
        ).toBe(byName.get(name)?.spanId);
        expect(byName.get(child)?.traceId).toBe(byName.get(name)?.traceId);
      }
    }
  });

  it("gives the caller its own context back, after sync and async spans, and leaks nothing", async () => {
    const { tracer } = recording();
    expect(tracer.activeSpan()).toBeUndefined();
    await tracer.startActiveSpan("outer", async (outer) => {
      tracer.startActiveSpan("inner", () => undefined);
      expect(tracer.activeSpan(), "after the inner span returns, the outer one is active again").toBe(outer);
      await tracer.startActiveSpan("inner-async", async () => immediate());
      expect(tracer.activeSpan()).toBe(outer);
    });
    expect(tracer.activeSpan(), "enterWith() would leave the span active in the caller").toBeUndefined();
    const span = tracer.startSpan("manual");
    expect(tracer.withSpan(span, () => tracer.activeSpan())).toBe(span);
    expect(tracer.activeSpan()).toBeUndefined();
  });

  it("ends the span when the function returns or its promise settles, with an error status on failure", async () => {
    const { tracer, finished } = recording();
    expect(tracer.startActiveSpan("sync", () => 42)).toBe(42);
    await expect(tracer.startActiveSpan("async", async () => "ok")).resolves.toBe("ok");
    expect(() =>
      tracer.startActiveSpan("throws", () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    await expect(
      tracer.startActiveSpan("rejects", async () => {
        throw new Error("late");
      }),
    ).rejects.toThrow("late");
    const pending = tracer.startActiveSpan("slow", () => sleep(5));
    expect(
      finished.map((s) => s.name),
      "not before its promise settles",
    ).not.toContain("slow");
    await pending;
    expect(Object.fromEntries(finished.map((s) => [s.name, s.status]))).toEqual({
      sync: "ok",
      async: "ok",
      throws: "error",
      rejects: "error",
      slow: "ok",
    });
  });

  it("runs a bound event listener in the span that registered it, not the emitter's", () => {
    const { tracer } = recording();
    const emitter = new EventEmitter();
    const seen: Record<string, Span | undefined> = {};
    const subscriber = tracer.startActiveSpan("subscriber", (span) => {
      emitter.on(
        "bound",
        tracer.bind(() => (seen.bound = tracer.activeSpan())),
      );
      emitter.on("plain", () => (seen.plain = tracer.activeSpan()));
      return span;
    });
    const publisher = tracer.startActiveSpan("publisher", (span) => {
      emitter.emit("bound");
      emitter.emit("plain");
      return span;
    });
    expect(seen.bound, "bind() carries the registering span to the listener").toBe(subscriber);
    expect(seen.plain, "without bind, a listener runs in whoever emits: here the publisher").toBe(publisher);
  });
});

describe("injection into outgoing requests", () => {
  it("writes the active span as the parent, and nothing outside a span", () => {
    const { tracer } = recording();
    expect(tracer.inject({}), "no active span, no headers").toEqual({});
    tracer.startActiveSpan("client", (span) => {
      const headers = tracer.inject({ accept: "application/json" });
      expect(headers.accept, "inject adds to the headers it is given").toBe("application/json");
      expect(headers.traceparent).toBe(`00-${span.context.traceId}-${span.context.spanId}-03`);
      expect(headers.tracestate, "no state to send: no empty header").toBeUndefined();
    });
  });

  it("propagates the random flag and the sampled decision unchanged, and clears undefined bits", () => {
    const { tracer } = recording();
    const flagsSent = (flags: string) => {
      const parent = tracer.extract({ traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}` });
      return tracer.startActiveSpan("call", () => tracer.inject({}).traceparent?.slice(-2), { parent });
    };
    expect(flagsSent("00"), "not sampled upstream: not sampled here").toBe("00");
    expect(flagsSent("01")).toBe("01");
    expect(flagsSent("02"), "Level 2: the random flag travels with the trace-id it describes").toBe("02");
    expect(flagsSent("03")).toBe("03");
    expect(flagsSent("09"), "undefined bits are sent as 0").toBe("01");
  });

  it("moves our tracestate member to the left on every hop, keeping the others", () => {
    const { tracer } = recording({ tracestateKey: "acme" });
    const parent = tracer.extract({
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "congo=t61rcWkgMzE,acme=old,rojo=00f067aa0ba902b7",
    });
    tracer.startActiveSpan(
      "call",
      (span) => {
        expect(tracer.inject({}).tracestate).toBe(
          `acme=${span.context.spanId},congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`,
        );
      },
      { parent },
    );
    expect(
      () => new Tracer({ tracestateKey: "Not Valid" }),
      "a key the grammar refuses is a configuration error",
    ).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// The W3C test suite (test/test.py), over real HTTP: a harness sends headers to a service built
// with the tracer, the service calls the harness back, and the harness reads what arrived.
// ---------------------------------------------------------------------------------------------

interface Callback {
  traceparent: RegExpExecArray;
  tracestate: Map<string, string>;
  rawTracestate: string;
}

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: http.Server): Promise<number> {
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

function call(port: number, path: string, headers: string[] | Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Starts the harness and a service that continues the trace and calls the harness back `n` times. */
async function suite() {
  const tracer = new Tracer({ tracestateKey: "acme" });
  const received = new Map<string, string[]>();
  const harness = http.createServer((req, res) => {
    received.set(req.url!, req.rawHeaders);
    res.end();
  });
  const harnessPort = await listen(harness);
  const service = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://service");
    const callbacks = Number(url.searchParams.get("callbacks"));
    const id = url.searchParams.get("id")!;
    tracer
      .startActiveSpan(
        "GET /",
        async () => {
          for (let i = 0; i < callbacks; i++) {
            await tracer.startActiveSpan("callback", () =>
              call(harnessPort, `/${id}/${i}`, tracer.inject({ host: "harness" })),
            );
          }
        },
        { parent: tracer.extract(req.headers) ?? null },
      )
      .then(
        () => res.end("ok"),
        (error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        },
      );
  });
  const servicePort = await listen(service);
  let requests = 0;

  /** Sends `headers` (name/value pairs, names as written) and returns what each callback carried. */
  async function send(headers: Array<[string, string]>, callbacks = 1): Promise<Callback[]> {
    const id = String(++requests);
    const status = await call(servicePort, `/?callbacks=${callbacks}&id=${id}`, ["host", "service", ...headers.flat()]);
    expect(status, "the service answered").toBe(200);
    return Array.from({ length: callbacks }, (_, i) => {
      const raw = received.get(`/${id}/${i}`);
      expect(raw, "your service made the callback").toBeDefined();
      const pairs: Array<[string, string]> = [];
      for (let j = 0; j < raw!.length; j += 2) pairs.push([raw![j]!.toLowerCase(), raw![j + 1]!]);
      const parents = pairs.filter(([name]) => name === "traceparent");
      expect(parents, "exactly one traceparent goes out").toHaveLength(1);
      const traceparent = TRACEPARENT.exec(parents[0]![1]);
      expect(traceparent, `a version-00 traceparent goes out, got ${parents[0]![1]}`).not.toBeNull();
      const rawTracestate = pairs
        .filter(([name]) => name === "tracestate")
        .map(([, v]) => v)
        .join(",");
      const tracestate = new Map<string, string>();
      for (const member of rawTracestate.split(",")) {
        const trimmed = member.trim();
        if (trimmed) tracestate.set(trimmed.slice(0, trimmed.indexOf("=")), trimmed.slice(trimmed.indexOf("=") + 1));
      }
      return { traceparent: traceparent!, tracestate, rawTracestate };
    });
  }

  const one = async (headers: Array<[string, string]>) => (await send(headers))[0]!;
  return { send, one };
}

const T = "12345678901234567890123456789012";
const P = "1234567890123456";
const tp = (flags = "01", version = "00", trace = T, parent = P) => `${version}-${trace}-${parent}-${flags}`;

describe("the W3C Trace Context test suite, over HTTP", () => {
  it("starts a trace when nothing came in, and continues one that did with a new parent-id", async () => {
    const { one } = await suite();
    expect((await one([])).traceparent[2]).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    const out = await one([["traceparent", tp()]]);
    expect(out.traceparent[2], "same trace").toBe(T);
    expect(out.traceparent[3], "our span is the next hop's parent").not.toBe(P);
  });

  it("restarts the trace for a duplicated traceparent", async () => {
    const { one } = await suite();
    const out = await one([
      ["traceparent", tp("01", "00", `${T.slice(0, -1)}1`)],
      ["traceparent", tp()],
    ]);
    expect(out.traceparent[2]).not.toBe(T);
    expect(out.traceparent[2]).not.toBe(`${T.slice(0, -1)}1`);
  });

  it("takes the header name in any case, and no other name", async () => {
    const { one } = await suite();
    for (const name of ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"])
      expect((await one([[name, tp()]])).traceparent[2], name).toBe(T);
    for (const name of ["trace-parent", "trace.parent"])
      expect((await one([[name, tp()]])).traceparent[2], name).not.toBe(T);
  });

  const restarts = [
    `${tp()}.`,
    `${tp()}-what-the-future-will-be-like`,
    `cc-${T}-${P}-01.what-the-future-will-be-like`,
    tp("01", "ff"),
    tp("01", ".0"),
    tp("01", "000"),
    tp("01", "0"),
    tp("01", "00", "0".repeat(32)),
    tp("01", "00", `1${T.slice(1, -1)}.`),
    tp("01", "00", `${T}3`),
    tp("01", "00", T.slice(1)),
    tp("01", "00", T, "0".repeat(16)),
    tp("01", "00", T, `${P}7`),
    tp("01", "00", T, P.slice(1)),
    tp(".0"),
    tp("001"),
    tp("1"),
    tp("01", "00", T.replace(/1/g, "A")),
  ];

  it.each(restarts)("restarts the trace for %s", async (header) => {
    const { one } = await suite();
    const out = await one([
      ["traceparent", header],
      ["tracestate", "foo=1"],
    ]);
    expect(out.traceparent[2], "an invalid traceparent is ignored: new trace-id").not.toBe(T);
    expect(out.tracestate.has("foo"), "and its tracestate with it").toBe(false);
  });

  it("continues a future version (0xcc) when its fields parse, and sends version 00", async () => {
    const { one } = await suite();
    for (const header of [tp("01", "cc"), `${tp("01", "cc")}-what-the-future-will-be-like`]) {
      const out = await one([["traceparent", header]]);
      expect(out.traceparent[2], header).toBe(T);
      expect(out.traceparent[1], "downgrade to the highest version we know").toBe("00");
    }
  });

  it("inherits tracestate, combines repeated headers in order and adds ours on the left", async () => {
    const { one } = await suite();
    const out = await one([
      ["traceparent", tp("00")],
      ["TraceState", "foo=1,bar=2"],
      ["tracestate", "rojo=1,congo=2"],
      ["tracestate", "baz=3"],
    ]);
    expect(out.traceparent[2]).toBe(T);
    expect(out.rawTracestate).toMatch(/^acme=[0-9a-f]{16},foo=1,bar=2,rojo=1,congo=2,baz=3$/);
  });

  it("drops a tracestate without a traceparent, and one under a wrong name", async () => {
    const { one } = await suite();
    const a = await one([["tracestate", "foo=1"]]);
    const b = await one([["tracestate", "foo=1,bar=2"]]);
    expect(a.tracestate.size, "no parent: nothing of the incoming state survives").toBe(b.tracestate.size);
    expect(a.tracestate.has("foo")).toBe(false);
    expect(
      (
        await one([
          ["traceparent", tp("00")],
          ["trace-state", "foo=1"],
        ])
      ).tracestate.has("foo"),
    ).toBe(false);
  });

  it("discards an invalid tracestate whole, and keeps the trace", async () => {
    const { one } = await suite();
    for (const state of ["foo=1,foo=2", "FOO=1", "foo@@bar=1,bar=2", "foo=bar=baz", "foo=,bar=3"]) {
      const out = await one([
        ["traceparent", tp("00")],
        ["tracestate", state],
      ]);
      expect(out.traceparent[2], `${state}: a bad tracestate does not affect traceparent`).toBe(T);
      expect([...out.tracestate.keys()], state).toEqual(["acme"]);
    }
    const empty = await one([
      ["traceparent", tp("00")],
      ["tracestate", ""],
      ["tracestate", "foo=1"],
    ]);
    expect(empty.tracestate.get("foo"), "an empty header next to a real one is fine").toBe("1");
  });

  it("keeps 32 incoming members (truncating for ours) and discards 33", async () => {
    const { one } = await suite();
    const members = Array.from(
      { length: 33 },
      (_, i) => `bar${String(i + 1).padStart(2, "0")}=${String(i + 1).padStart(2, "0")}`,
    );
    const headers = (count: number): Array<[string, string]> => [
      ["traceparent", tp("00")],
      ["tracestate", members.slice(0, 10).join(",")],
      ["tracestate", members.slice(10, count).join(",")],
    ];
    const kept = await one(headers(32));
    expect(kept.tracestate.get("bar01")).toBe("01");
    expect(kept.tracestate.size, "32 at most, ours included: the right-most goes").toBe(32);
    expect((await one(headers(33))).tracestate.has("bar01"), "33 members is an invalid list").toBe(false);
  });

  it("gives each of three callbacks the incoming trace-id and its own parent-id", async () => {
    const { send } = await suite();
    const outs = await send([["traceparent", tp()]], 3);
    expect(new Set(outs.map((o) => o.traceparent[2]))).toEqual(new Set([T]));
    expect(new Set(outs.map((o) => o.traceparent[3])).size, "one client span per outgoing call").toBe(3);
    const fresh = await send([["traceparent", tp("01", "00", "0".repeat(32))]], 3);
    expect(fresh.some((o) => o.traceparent[2] === "0".repeat(32))).toBe(false);
    expect(new Set(fresh.map((o) => o.traceparent[3])).size).toBe(3);
  });
});
