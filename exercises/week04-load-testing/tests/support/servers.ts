/**
 * The systems under test: node:http servers on ephemeral loopback ports, started by each test
 * and closed after it. They count what a load generator cannot hide from them: requests,
 * connections opened, and connections still open.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse, requestNumber: number) => void;

export interface TestServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** TCP connections accepted so far. */
  readonly connectionsOpened: number;
  /** TCP connections accepted and not yet closed. */
  openConnections(): number;
  /** Resolves when every accepted connection has closed; rejects after `timeoutMs`. */
  allConnectionsClosed(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const running = new Set<TestServer>();

/** Closes every server a test started (call from afterEach). */
export async function closeAllServers(): Promise<void> {
  const servers = [...running];
  running.clear();
  await Promise.all(servers.map((server) => server.close()));
}

/** Starts a server whose `handler` gets every request with its number (1, 2, ...). */
export async function startServer(handler: Handler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const closedWaiters = new Set<() => void>();
  let requests = 0;
  let connectionsOpened = 0;

  const server = http.createServer((request, response) => {
    requests++;
    handler(request, response, requests);
  });
  server.on("connection", (socket: Socket) => {
    connectionsOpened++;
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) for (const wake of closedWaiters) wake();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const testServer: TestServer = {
    url: `http://127.0.0.1:${port}/load`,
    get requests() {
      return requests;
    },
    get connectionsOpened() {
      return connectionsOpened;
    },
    openConnections: () => sockets.size,
    allConnectionsClosed(timeoutMs = 2_000) {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          closedWaiters.delete(wake);
          reject(new Error(`${sockets.size} connection(s) still open ${timeoutMs} ms after the run ended`));
        }, timeoutMs);
        const wake = () => {
          clearTimeout(timer);
          closedWaiters.delete(wake);
          resolve();
        };
        closedWaiters.add(wake);
      });
    },
    close() {
      running.delete(testServer);
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
  running.add(testServer);
  return testServer;
}

/** Answers 200 with a small body at once. */
export const ok: Handler = (_request, response) => {
  response.end("ok");
};

export interface PoolServerOptions {
  /** Requests served at the same time. */
  workers: number;
  /** Time each request occupies a worker, in milliseconds. */
  serviceMs: number;
  /** What happens to a request that finds every worker busy: wait in line, or get a 503 at once. */
  overflow: "queue" | "reject";
}

export interface PoolServer extends TestServer {
  /** The server's gauge: requests received and not yet answered (waiting or being served). */
  inFlight(): number;
  /** The most requests ever in flight at once. */
  readonly peakInFlight: number;
}

/**
 * A server with a fixed pool of workers, each busy `serviceMs` per request: its capacity is
 * workers * 1000 / serviceMs requests per second. Below that, latency stays at serviceMs;
 * above it, the queue grows without bound (overflow "queue") or requests are shed (overflow
 * "reject"). Its behaviour is a function of load, so the knee is where the arithmetic says.
 */
export async function startPoolServer(options: PoolServerOptions): Promise<PoolServer> {
  let busy = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  const waiting: http.ServerResponse[] = [];

  const serve = (response: http.ServerResponse) => {
    busy++;
    setTimeout(() => {
      busy--;
      inFlight--;
      response.end("done");
      const next = waiting.shift();
      if (next) serve(next);
    }, options.serviceMs);
  };

  const base = await startServer((_request, response) => {
    if (busy < options.workers) {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      serve(response);
    } else if (options.overflow === "queue") {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      waiting.push(response);
    } else {
      response.statusCode = 503;
      response.end("overloaded");
    }
  });

  return {
    url: base.url,
    get requests() {
      return base.requests;
    },
    get connectionsOpened() {
      return base.connectionsOpened;
    },
    openConnections: base.openConnections,
    allConnectionsClosed: base.allConnectionsClosed,
    close: base.close,
    inFlight: () => inFlight,
    get peakInFlight() {
      return peakInFlight;
    },
  };
}
