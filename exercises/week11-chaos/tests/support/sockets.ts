/**
 * Small clients for the proxy tests: a raw socket that records what it receives and how it
 * ended, ioredis and pg clients pointed at a proxy, and a bounded polling wait.
 */
import net from "node:net";
import { Redis } from "ioredis";
import pg from "pg";

export interface RawClient {
  readonly socket: net.Socket;
  /** Everything received so far, as text. */
  received(): string;
  /** Number of 'data' events so far (each is one read from the kernel). */
  reads(): number;
  /** Resolves with how the connection ended: the error code (ECONNRESET...) or "end". */
  readonly ended: Promise<string>;
  /** Resolves once `text` has arrived in full; rejects after `timeoutMs`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

const opened = new Set<{ close(): unknown }>();

/** Closes every client these helpers opened (call from afterEach). */
export async function closeClients(): Promise<void> {
  const all = [...opened];
  opened.clear();
  await Promise.all(all.map(async (c) => c.close()));
}

/** A raw TCP client to `port` that keeps what it reads. */
export async function rawClient(port: number): Promise<RawClient> {
  const socket = net.connect({ host: "127.0.0.1", port });
  let text = "";
  let reads = 0;
  const listeners = new Set<() => void>();
  let error = "";
  const ended = new Promise<string>((resolve) => {
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on("close", () => resolve(error || "end"));
  });
  socket.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
    reads++;
    for (const wake of listeners) wake();
  });
  opened.add({ close: () => socket.destroy() });
  // A connection the proxy resets at once may never report 'connect': it ends instead.
  await Promise.race([new Promise((resolve) => socket.once("connect", resolve)), ended]);
  return {
    socket,
    received: () => text,
    reads: () => reads,
    ended,
    waitFor: (expected, timeoutMs = 3_000) =>
      new Promise<void>((resolve, reject) => {
        if (text.includes(expected)) return resolve();
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `${JSON.stringify(expected)} did not arrive within ${timeoutMs} ms (got ` +
                `${JSON.stringify(text.slice(0, 80))})`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (!text.includes(expected)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      }),
  };
}

/** An ioredis client through `port`, failing fast instead of reconnecting; closed by closeClients. */
export function redisVia(port: number, keyPrefix: string): Redis {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    keyPrefix,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3_000,
  });
  client.on("error", () => {});
  opened.add({ close: () => (client.status === "end" ? undefined : client.quit().catch(() => client.disconnect())) });
  return client;
}

/** A pg client through `port`, to the database of `databaseUrl`; closed by closeClients. */
export async function postgresVia(port: number, databaseUrl: string): Promise<pg.Client> {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  opened.add({ close: () => client.end().catch(() => {}) });
  await client.connect();
  return client;
}

/** The time `action` takes, in milliseconds (performance.now, monotonic). */
export async function timed(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

/** Settles with `promise`, or rejects after `timeoutMs` saying that `what` did not happen. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 3_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `predicate` every 10 ms; rejects naming `what` after `timeoutMs`. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
