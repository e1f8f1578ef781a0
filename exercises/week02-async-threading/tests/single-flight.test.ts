import { describe, expect, it } from "vitest";
import { SingleFlight } from "../src/single-flight";

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

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Calls run(), failing with a lesson if it throws instead of returning a promise. */
function runOf<V>(group: SingleFlight<string, V>, key: string, fn: () => V | PromiseLike<V>, what: string): Promise<V> {
  try {
    return group.run(key, fn);
  } catch (error) {
    throw new Error(
      `run() threw ${String(error)} for ${what}: it returns a promise, so every failure must arrive as a rejection`,
    );
  }
}

/** A loader whose executions the test settles by hand, counting how many were started. */
function controlledLoader<V>() {
  const executions: Deferred<V>[] = [];
  return {
    executions,
    load: () => {
      const execution = deferred<V>();
      executions.push(execution);
      return execution.promise;
    },
  };
}

describe("single-flight: concurrent calls for one key share one execution", () => {
  it("runs the work once for concurrent calls with the same key, and every caller gets the same result", async () => {
    const group = new SingleFlight<string, { user: string }>();
    const loader = controlledLoader<{ user: string }>();

    const callers = Array.from({ length: 5 }, () => group.run("user:42", loader.load));
    const row = { user: "ada" };
    loader.executions[0]?.resolve(row);
    const results = await Promise.all(callers);

    expect(loader.executions, "a cache stampede is N identical queries; single-flight makes it one").toHaveLength(1);
    for (const result of results) expect(result, "every caller receives the one execution's value").toBe(row);
  });

  it("gives every concurrent caller the same error when the execution fails", async () => {
    const group = new SingleFlight<string, number>();
    const loader = controlledLoader<number>();
    const callers = [group.run("k", loader.load), group.run("k", loader.load), group.run("k", loader.load)];
    const failure = new Error("backend down");

    loader.executions[0]?.reject(failure);
    const outcomes = await Promise.allSettled(callers);

    expect(loader.executions).toHaveLength(1);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      expect((outcome as PromiseRejectedResult).reason, "the same error object, not a copy or a wrapper").toBe(failure);
    }
  });

  it("keeps keys independent: a slow key neither blocks nor shares with another key", async () => {
    const group = new SingleFlight<string, string>();
    const slow = controlledLoader<string>();
    const slowCall = group.run("slow", slow.load);

    const fast = await group.run("fast", async () => "fast value");

    expect(fast, "another key runs its own work at once").toBe("fast value");
    expect(slow.executions).toHaveLength(1);
    slow.executions[0]?.resolve("slow value");
    expect(await slowCall).toBe("slow value");
  });

  it("turns a synchronous throw in the work into a rejection for every caller, and frees the key", async () => {
    const group = new SingleFlight<string, number>();
    const failure = new TypeError("thrown before any await");

    const call = runOf(
      group,
      "k",
      () => {
        throw failure;
      },
      "work that throws synchronously",
    );

    await expect(call, "callers of a promise-returning function handle one failure channel").rejects.toBe(failure);
    const next = await group
      .run("k", async () => 7)
      .then(
        (value) => value,
        (error: unknown) => error,
      );
    expect(
      next,
      "the call after the failed execution joined it instead of running fresh: the key must be freed even when fn " +
        "throws before it returns a promise (and so before your map entry may exist)",
    ).toBe(7);
  });
  it("shares work that returns a plain value or a thenable, not only a native promise", async () => {
    const group = new SingleFlight<string, number>();
    expect(
      await runOf(group, "plain", () => 42, "work that returns a plain value"),
      "fn may return its value directly (a memoized lookup, a constant)",
    ).toBe(42);
    let resolveLater!: (value: number) => void;
    const thenable: PromiseLike<number> = {
      then: (onFulfilled, onRejected) =>
        new Promise<number>((resolve) => (resolveLater = resolve)).then(onFulfilled, onRejected),
    };
    let calls = 0;
    const callers = [0, 1, 2].map(() =>
      runOf(
        group,
        "thenable",
        () => {
          calls++;
          return thenable;
        },
        "work that returns a thenable",
      ),
    );
    await flush();
    resolveLater(7);
    expect(await Promise.all(callers), "a PromiseLike from another library is adopted like a promise").toEqual([
      7, 7, 7,
    ]);
    expect(calls, "the three concurrent callers share one execution").toBe(1);
    expect(group.size, "and once it settled, no key is held: nothing is cached").toBe(0);
  });
});

describe("single-flight: nothing is cached once an execution settles", () => {
  it("runs the work again for the first call after a success", async () => {
    const group = new SingleFlight<string, number>();
    let executions = 0;
    const load = async () => ++executions;

    expect(await group.run("k", load)).toBe(1);
    expect(await group.run("k", load), "single-flight deduplicates in-flight work; it is not a cache").toBe(2);
  });

  it("does not cache a rejection: the call after a failure runs the work again and can succeed", async () => {
    const group = new SingleFlight<string, string>();
    let attempt = 0;
    const load = async () => {
      attempt++;
      if (attempt === 1) throw new Error("transient");
      return "recovered";
    };

    await expect(group.run("k", load)).rejects.toThrow("transient");
    expect(await group.run("k", load), "a cached failure would keep serving the outage after it ended").toBe(
      "recovered",
    );
  });

  it("starts a new execution for a call made in a caller's own continuation of the settled one", async () => {
    const group = new SingleFlight<string, number>();
    const loader = controlledLoader<number>();
    let second: Promise<number> | undefined;

    const first = group.run("k", loader.load).then((value) => {
      second = group.run("k", loader.load);
      return value;
    });
    loader.executions[0]?.resolve(1);
    await first;

    expect(loader.executions, "by the time callers see the result the key must already be free").toHaveLength(2);
    loader.executions[1]?.resolve(2);
    expect(await second).toBe(2);
  });
});

describe("single-flight: memory follows the calls in flight, not the keys ever used", () => {
  it("holds no entry once all executions have settled, after 10 000 distinct keys that succeed or fail", async () => {
    const group = new SingleFlight<number, number>();

    const calls: Promise<unknown>[] = [];
    for (let key = 0; key < 10_000; key++) {
      calls.push(
        group.run(key, async () => (key % 7 === 0 ? Promise.reject(new Error(`key ${key}`)) : key)).catch(() => -1),
      );
    }
    expect(group.size, "while they run, one entry per key in flight").toBe(10_000);
    await Promise.all(calls);
    await flush();

    expect(group.size, "a map that keeps every key ever seen grows until the process runs out of memory").toBe(0);
  });

  it("forget(key) lets the next call start a new execution, and the old one does not evict the new one when it settles", async () => {
    const group = new SingleFlight<string, string>();
    const loader = controlledLoader<string>();
    const old = group.run("k", loader.load);

    group.forget("k");
    const fresh = group.run("k", loader.load);
    loader.executions[0]?.resolve("old");
    await old;
    const joiner = group.run("k", loader.load);

    expect(loader.executions, "the call after the old execution settled joins the fresh one").toHaveLength(2);
    loader.executions[1]?.resolve("fresh");
    expect(await fresh).toBe("fresh");
    expect(await joiner).toBe("fresh");
    expect(group.size).toBe(0);
  });
});
