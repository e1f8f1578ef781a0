/**
 * Makes concurrent saves overlap inside Postgres. Two saves started together do not race by
 * themselves: the first gets the pool's idle connection and can commit before the second has
 * even opened its own. While a race runs, every checked-out client holds its first statement
 * until `racers` clients are checked out (or `maxWaitMs` passed), then all of them go at once,
 * so a read-check-write that is not atomic in the database really does lose an update.
 */
import type pg from "pg";

export interface StartingLine {
  readonly pool: pg.Pool;
  /** Runs `run` with the line armed for `racers` checkouts. */
  race<T>(racers: number, run: () => Promise<T>): Promise<T>;
}

interface Line {
  expected: number;
  arrived: number;
  opened: boolean;
  open: Promise<void>;
  release(): void;
}

type Callback = (error: unknown, result?: unknown) => void;

export function startingLine(pool: pg.Pool, maxWaitMs = 2_000): StartingLine {
  let line: Line | undefined;
  const held = new Set<object>();

  pool.on("acquire", (client) => {
    if (line && !line.opened) held.add(client);
  });
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const waiting = line;
      if (!waiting || !held.delete(client)) return query(...args);
      waiting.arrived++;
      if (waiting.arrived >= waiting.expected) waiting.release();
      // pg-pool's own pool.query() passes a callback; a caller's client.query() usually does not.
      const callback = typeof args.at(-1) === "function" ? (args.pop() as Callback) : undefined;
      const result = waiting.open.then(() => query(...args) as Promise<unknown>);
      if (!callback) return result;
      result.then(
        (value) => callback(null, value),
        (error: unknown) => callback(error),
      );
      return undefined;
    };
  });

  return {
    pool,
    async race(racers, run) {
      let timer: NodeJS.Timeout | undefined;
      let resolve!: () => void;
      const open = new Promise<void>((r) => (resolve = r));
      const armed: Line = {
        expected: racers,
        arrived: 0,
        opened: false,
        open,
        release: () => {
          armed.opened = true;
          clearTimeout(timer);
          resolve();
        },
      };
      timer = setTimeout(armed.release, maxWaitMs);
      line = armed;
      try {
        return await run();
      } finally {
        armed.release();
        line = undefined;
        held.clear();
      }
    },
  };
}
