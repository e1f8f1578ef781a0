import { getEventListeners } from "node:events";
import pLimit from "p-limit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { seededRandom } from "#fixtures/random";
import { mapConcurrent } from "../src/map-concurrent";

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One macrotask turn: every pending promise callback has run when it resolves. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Calls whose outcome the test decides, recorded by index. */
function controlledCalls<R>() {
  const calls = new Map<number, Deferred<R> & { signal: AbortSignal }>();
  const order: number[] = [];
  let inFlight = 0;
  let peak = 0;
  return {
    calls,
    order,
    get inFlight() {
      return inFlight;
    },
    get peak() {
      return peak;
    },
    fn: (_item: unknown, index: number, signal: AbortSignal): Promise<R> => {
      const call = { ...deferred<R>(), signal };
      calls.set(index, call);
      order.push(index);
      inFlight++;
      peak = Math.max(peak, inFlight);
      const settled = () => inFlight--;
      call.promise.then(settled, settled);
      return call.promise;
    },
  };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on("unhandledRejection", onUnhandled);
afterEach(() => {
  unhandled.splice(0);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

describe("map-concurrent: results keep input order, and the limit holds", () => {
  it("resolves to the results in input order even when later items finish first", async () => {
    const control = controlledCalls<string>();
    const mapped = mapConcurrent(["a", "b", "c", "d"], 4, control.fn);
    await flush();

    for (const index of [3, 2, 1, 0]) {
      control.calls.get(index)!.resolve(`result ${index}`);
      await flush();
    }

    expect(await mapped, "result i belongs to item i, whatever order the calls finished in").toEqual([
      "result 0",
      "result 1",
      "result 2",
      "result 3",
    ]);
  });

  it("never has more than `limit` calls in flight, and uses all of them when there is enough work", async () => {
    const random = seededRandom(42);
    const delays = Array.from({ length: 30 }, () => Math.floor(random() * 5));
    let inFlight = 0;
    let peak = 0;

    const results = await mapConcurrent(delays, 4, async (delay, index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, delay));
      inFlight--;
      return index;
    });

    expect(peak, "the limit is a hard ceiling, and a correct pool fills every slot it has").toBe(4);
    expect(results).toEqual(delays.map((_, index) => index));
  });

  it("starts calls at the same moments as p-limit does on the same workload, step by step", async () => {
    const items = Array.from({ length: 12 }, (_, index) => index);

    // Both runs face the same script: at each step one running call, picked by a seeded
    // random source, finishes; the set of running calls is recorded after every step.
    async function replay(run: (call: (index: number) => Promise<number>) => Promise<number[]>) {
      const running = new Map<number, Deferred<number>>();
      const random = seededRandom(7);
      const steps: number[][] = [];
      const done = run((index) => {
        const call = deferred<number>();
        running.set(index, call);
        return call.promise;
      });
      await flush();
      steps.push([...running.keys()].sort((a, b) => a - b));
      while (running.size > 0) {
        const keys = [...running.keys()];
        const pick = keys[Math.floor(random() * keys.length)]!;
        running.get(pick)!.resolve(pick * 10);
        running.delete(pick);
        await flush();
        steps.push([...running.keys()].sort((a, b) => a - b));
      }
      return { steps, results: await done };
    }

    const limit = pLimit(3);
    const oracle = await replay((call) => Promise.all(items.map((_, index) => limit(() => call(index)))));
    const ours = await replay((call) => mapConcurrent(items, 3, (_, index) => call(index)));

    expect(
      ours.steps,
      "after each finished call, the same calls should be running as under p-limit (fill free slots in input order)",
    ).toEqual(oracle.steps);
    expect(ours.results).toEqual(oracle.results);
  });

  it("passes each item and its index, and resolves to [] for empty input without calling fn", async () => {
    const seen: [string, number][] = [];
    await mapConcurrent(["x", "y"], 1, (item, index) => {
      seen.push([item, index]);
      return item;
    });
    expect(seen).toEqual([
      ["x", 0],
      ["y", 1],
    ]);

    let called = false;
    expect(
      await mapConcurrent([], 2, () => {
        called = true;
      }),
    ).toEqual([]);
    expect(called).toBe(false);
  });

  it("rejects a limit below 1, a fractional limit or NaN with RangeError, and treats Infinity as no limit", async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      await expect(
        mapConcurrent([1], limit, (x) => x),
        `limit ${limit}`,
      ).rejects.toBeInstanceOf(RangeError);
    }
    const badMode = { mode: "best-effort" } as unknown as { mode: "settled" };
    await expect(
      mapConcurrent([1], 1, (x) => x, badMode),
      "an unknown mode is a TypeError",
    ).rejects.toBeInstanceOf(TypeError);
    const control = controlledCalls<number>();
    const mapped = mapConcurrent([1, 2, 3, 4, 5], Number.POSITIVE_INFINITY, control.fn);
    await flush();
    expect(control.inFlight, "with no limit every item starts at once").toBe(5);
    for (const call of control.calls.values()) call.resolve(0);
    await mapped;
  });
});

describe("map-concurrent: iterables and async iterables are read lazily", () => {
  it("pulls the next item from a generator only when a slot is free", async () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 20; i++) {
        pulled++;
        yield i;
      }
    }
    const control = controlledCalls<number>();
    const mapped = mapConcurrent(source(), 3, control.fn);
    await flush();

    expect(pulled, "reading ahead would buffer the whole source (think: rows of a huge table)").toBe(3);
    control.calls.get(1)!.resolve(1);
    await flush();
    expect(pulled, "one finished call frees one slot: exactly one more item is read").toBe(4);

    for (let index = 0; index < 20; index++) {
      await flush();
      control.calls.get(index)?.resolve(index);
    }
    expect(await mapped).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  it("reads an async iterable one next() at a time and never more than `limit` items ahead of the finished calls", async () => {
    let pulled = 0;
    let completed = 0;
    let overlapping = 0;
    let aheadViolations = 0;
    let pulling = false;
    const limit = 2;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        async next() {
          if (pulling) overlapping++;
          pulling = true;
          await new Promise((resolve) => setTimeout(resolve, 1));
          pulling = false;
          if (pulled - completed >= limit) aheadViolations++;
          if (pulled === 10) return { done: true, value: undefined };
          return { done: false, value: pulled++ };
        },
      }),
    };

    const results = await mapConcurrent(source, limit, async (item) => {
      await new Promise((resolve) => setTimeout(resolve, (item * 7) % 4));
      completed++;
      return item * 2;
    });

    expect(overlapping, "an async iterator may not support concurrent next() calls: await each one").toBe(0);
    expect(aheadViolations, "an item is read only when one of the `limit` slots is free").toBe(0);
    expect(results).toEqual(Array.from({ length: 10 }, (_, item) => item * 2));
  });
});

describe("map-concurrent: fail-fast mode rejects on the first error", () => {
  it("rejects with the source's own error when the iterator throws, and does not call return() on the broken iterator", async () => {
    const broken = new Error("cursor lost its connection");
    let returns = 0;
    let produced = 0;
    const source: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next() {
          if (produced === 2) throw broken;
          return { done: false, value: produced++ };
        },
        return() {
          returns++;
          return { done: true, value: undefined };
        },
      }),
    };
    const control = controlledCalls<number>();

    const mapped = mapConcurrent(source, 4, control.fn);

    await expect(mapped, "a failing source fails the map with its own error").rejects.toBe(broken);
    expect(returns, "an iterator that threw is already done; for-of does not call its return() either").toBe(0);
    expect(control.calls.get(0)!.signal.aborted, "the calls already running are told to stop").toBe(true);
  });

  it("rejects with a TypeError when the source's next() returns something that is not an iterator result, as for-of does", async () => {
    for (const bad of [undefined, null, 42, "item"]) {
      const broken = bad as unknown as IteratorResult<number>;
      const sources: [string, Iterable<number> | AsyncIterable<number>][] = [
        ["an iterable", { [Symbol.iterator]: () => ({ next: () => broken }) }],
        ["an async iterable", { [Symbol.asyncIterator]: () => ({ next: async () => broken }) }],
      ];
      for (const [kind, source] of sources) {
        const outcome = { settled: false, error: undefined as unknown };
        mapConcurrent(source, 2, async (x) => x).then(
          () => (outcome.settled = true),
          (error: unknown) => Object.assign(outcome, { settled: true, error }),
        );
        for (let turn = 0; turn < 3; turn++) await flush();
        expect(
          outcome.settled,
          `${kind} whose next() gives ${String(bad)}: reading .done of it throws, and a throw outside your try leaves the map pending forever`,
        ).toBe(true);
        expect(
          outcome.error,
          `${kind} whose next() gives ${String(bad)} fails the map with a TypeError, as for-of and for await do`,
        ).toBeInstanceOf(TypeError);
      }
    }
    expect(unhandled, "the failure reaches the caller, not the process's unhandledRejection handler").toEqual([]);
  });

  it("stops cleanly with a source whose iterator has no return() method", async () => {
    let next = 0;
    const endless: Iterable<number> = { [Symbol.iterator]: () => ({ next: () => ({ done: false, value: next++ }) }) };
    const failure = new Error("item 0 failed");

    const mapped = mapConcurrent(endless, 2, async (item) => {
      if (item === 0) throw failure;
      return new Promise<number>(() => {});
    });

    await expect(mapped, "return() is optional in the iterator protocol").rejects.toBe(failure);
  });

  it("does not start an item that an async source delivers after the map has already failed", async () => {
    const pending: Deferred<IteratorResult<number>>[] = [];
    let produced = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next() {
          if (produced < 2) return Promise.resolve({ done: false, value: produced++ });
          const slow = deferred<IteratorResult<number>>();
          pending.push(slow);
          return slow.promise;
        },
      }),
    };
    const control = controlledCalls<number>();
    const mapped = mapConcurrent(source, 2, control.fn);
    await flush();
    control.calls.get(0)!.resolve(0); // frees a slot: the map asks the source for item 2
    await flush();
    expect(pending, "the third next() is waiting on the source").toHaveLength(1);

    const boom = new Error("item 1 failed");
    control.calls.get(1)!.reject(boom);
    await expect(mapped).rejects.toBe(boom);
    pending[0]!.resolve({ done: false, value: 2 });
    await flush();

    expect(control.order, "an item that arrives after the failure is dropped, not started").toEqual([0, 1]);
  });

  it("rejects with the first error and starts nothing new after it", async () => {
    const control = controlledCalls<number>();
    const mapped = mapConcurrent(
      Array.from({ length: 10 }, (_, i) => i),
      2,
      control.fn,
    );
    await flush();
    const boom = new Error("item 1 failed");

    control.calls.get(1)!.reject(boom);

    await expect(mapped, "the map rejects with the failing call's own error").rejects.toBe(boom);
    control.calls.get(0)!.resolve(0);
    await flush();
    expect(control.order, "after the first error no new call may start").toEqual([0, 1]);
  });

  it("aborts the signal handed to the calls still running, with the first error as the reason", async () => {
    const control = controlledCalls<number>();
    const mapped = mapConcurrent([0, 1, 2], 3, control.fn);
    await flush();
    const boom = new Error("item 2 failed");

    control.calls.get(2)!.reject(boom);
    await mapped.catch(() => {});

    const survivor = control.calls.get(0)!.signal;
    expect(survivor.aborted, "the running calls' results will be thrown away: tell them to stop").toBe(true);
    expect(survivor.reason).toBe(boom);
  });

  it("closes the source when it stops early, so the generator's finally block runs", async () => {
    let closed = false;
    function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const control = controlledCalls<number>();
    const mapped = mapConcurrent(source(), 2, control.fn);
    await flush();

    control.calls.get(0)!.reject(new Error("stop"));
    await mapped.catch(() => {});

    expect(closed, "iterator.return() releases what the source holds (a file handle, a database cursor)").toBe(true);
  });

  it("leaves no unhandled rejection when calls still running fail after the first error, or fn throws synchronously", async () => {
    const control = controlledCalls<number>();
    const mapped = mapConcurrent([0, 1, 2], 3, control.fn);
    await flush();

    control.calls.get(0)!.reject(new Error("first"));
    await mapped.catch(() => {});
    control.calls.get(1)!.reject(new Error("second, after the map already failed"));
    control.calls.get(2)!.reject(new Error("third"));
    const thrown = mapConcurrent([1, 2], 1, () => {
      throw new Error("synchronous throw");
    });
    const closingFails: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: 1 }),
        return: () => Promise.reject(new Error("return() failed while closing")),
      }),
    };
    await expect(
      mapConcurrent(closingFails, 1, () => Promise.reject(new Error("stop"))),
      "closing the source is best effort; the map's own error wins",
    ).rejects.toThrow("stop");
    await expect(thrown, "a synchronous throw in fn is a rejection of the map, not an exception").rejects.toThrow(
      "synchronous throw",
    );
    await flush();
    await flush();

    expect(
      unhandled,
      "an unhandled rejection crashes a Node process by default (--unhandled-rejections=throw)",
    ).toEqual([]);
  });
});

describe("map-concurrent: settled mode returns every outcome", () => {
  it("returns the same outcomes as Promise.allSettled, in input order, after calling fn for every item", async () => {
    const items = [1, 2, 3, 4, 5, 6];
    const work = async (item: number) => {
      await new Promise((resolve) => setTimeout(resolve, (item * 3) % 4));
      if (item % 3 === 0) throw new Error(`item ${item} failed`);
      return item * 100;
    };
    let calls = 0;

    const outcomes = await mapConcurrent(
      items,
      2,
      (item) => {
        calls++;
        return work(item);
      },
      { mode: "settled" },
    );

    expect(calls, "settled mode does not stop at an error").toBe(items.length);
    expect(outcomes).toEqual(await Promise.allSettled(items.map(work)));
  });

  it("records a synchronous throw in fn as that item's rejected outcome", async () => {
    const outcomes = await mapConcurrent(
      ["ok", "throw"],
      2,
      (item) => {
        if (item === "throw") throw new TypeError("bad item");
        return item;
      },
      { mode: "settled" },
    );

    expect(outcomes[0]).toEqual({ status: "fulfilled", value: "ok" });
    expect(outcomes[1]?.status).toBe("rejected");
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
  });
});

describe("map-concurrent: aborting stops new work and rejects with the reason", () => {
  it("rejects with the signal's reason, starts nothing new, aborts the running calls and closes the source", async () => {
    let closed = false;
    function* source() {
      try {
        for (let i = 0; i < 100; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const controller = new AbortController();
    const control = controlledCalls<number>();
    const mapped = mapConcurrent(source(), 2, control.fn, { signal: controller.signal });
    await flush();
    const reason = new Error("shutting down");

    controller.abort(reason);

    await expect(mapped, "the caller's reason is kept, so it can tell a shutdown from a failure").rejects.toBe(reason);
    control.calls.get(0)!.resolve(0);
    await flush();
    expect(control.order, "no call starts after the abort").toEqual([0, 1]);
    expect(control.calls.get(1)!.signal.reason, "running calls learn about the abort").toBe(reason);
    expect(closed, "the source is closed").toBe(true);
  });

  it("rejects at once with an already-aborted signal's reason, without reading an item or calling fn", async () => {
    let pulled = false;
    function* source() {
      pulled = true;
      yield 1;
    }
    let called = false;
    const reason = new Error("already cancelled");

    const mapped = mapConcurrent(
      source(),
      2,
      () => {
        called = true;
      },
      { signal: AbortSignal.abort(reason) },
    );

    await expect(mapped).rejects.toBe(reason);
    expect(pulled, "no item is read").toBe(false);
    expect(called, "fn is not called").toBe(false);
  });

  it("rejects with the reason in settled mode too: an abort is not an item's outcome", async () => {
    const controller = new AbortController();
    const control = controlledCalls<number>();
    const mapped = mapConcurrent([1, 2, 3], 1, control.fn, { signal: controller.signal, mode: "settled" });
    await flush();
    const reason = new Error("stop");

    controller.abort(reason);

    await expect(mapped).rejects.toBe(reason);
  });

  it("removes its abort listener from the caller's signal when it finishes, so a long-lived signal does not leak", async () => {
    const controller = new AbortController();
    for (let run = 0; run < 20; run++) await mapConcurrent([1, 2, 3], 2, async (x) => x, { signal: controller.signal });
    await mapConcurrent([1], 1, () => Promise.reject(new Error("fails")), { signal: controller.signal }).catch(
      () => {},
    );

    expect(
      getEventListeners(controller.signal, "abort"),
      "a process-wide shutdown signal outlives thousands of maps",
    ).toHaveLength(0);
  });
});
