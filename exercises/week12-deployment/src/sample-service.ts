/**
 * The week's sample service, for the graceful-shutdown kata's process (server-main.ts): an
 * express app with a readiness endpoint, a slow endpoint, and two pretend connection pools
 * whose closing it prints. It is given; what the kata builds is the process around it.
 *
 * Lines it prints: `started <path>` when a request begins, `finished <path>` when it is
 * answered, `closed <pool>` when a pool is closed.
 */
import express, { type Express } from "express";

export interface SamplePool {
  readonly name: string;
  /** Resolves after one round trip; rejects once the pool is closed. */
  query(): Promise<void>;
  close(): Promise<void>;
}

export interface SampleService {
  readonly app: Express;
  /** Readiness answers 503 from now on. */
  markNotReady(): void;
  /** The pools, in the order to close them. */
  readonly pools: readonly SamplePool[];
}

function pool(name: string, log: (line: string) => void): SamplePool {
  let closed = false;
  return {
    name,
    query: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (closed) throw new Error(`pool ${name} is closed`);
    },
    close: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      closed = true;
      log(`closed ${name}`);
    },
  };
}

/** Builds the sample service; `log` prints one line. */
export function createSampleService(log: (line: string) => void): SampleService {
  let ready = true;
  const pools = [pool("db", log), pool("cache", log)] as const;
  const [db] = pools;
  const app = express();

  app.get("/readyz", (_req, res) => {
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "draining" });
  });
  app.get("/", (_req, res) => {
    res.send("hello");
  });
  // Waits `ms` milliseconds, then needs the database: a request that outlives a closed pool fails.
  app.get("/slow", async (req, res) => {
    const ms = Math.min(Number(req.query.ms ?? 1_000) || 0, 120_000);
    log("started /slow");
    await new Promise((resolve) => setTimeout(resolve, ms));
    try {
      await db.query();
      res.send("done");
    } catch {
      res.status(500).send("the database pool was closed under a running request");
    }
    log("finished /slow");
  });

  return {
    app,
    markNotReady: () => {
      ready = false;
    },
    pools,
  };
}
