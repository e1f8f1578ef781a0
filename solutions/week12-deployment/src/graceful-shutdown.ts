// Reference solution for the `graceful-shutdown` kata, part 1: the drain that runs between
// SIGTERM and exit, in the order Kubernetes' termination sequence needs.

import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** Something to close once no request can use it any more: a pg pool, a Redis client. */
export interface Closable {
  readonly name: string;
  close(): Promise<void>;
}

export interface GracefulShutdownOptions {
  /** The listening HTTP server. */
  readonly server: Server;
  /** Turns readiness to 503 (health-probes' markDraining, or the sample service's). */
  markNotReady(): void;
  /** How long to keep accepting after readiness turned 503, in ms. */
  readonly propagationDelayMs: number;
  /** The whole drain's deadline, from the first begin(), in ms. Past it: exit(1). */
  readonly timeoutMs: number;
  /** Closed in this order after the last connection ended. */
  readonly resources: readonly Closable[];
  /** Ends the process: `(code) => process.exit(code)` in production, a recorder in tests. */
  exit(code: number): void;
  /** One line per event (`draining` is required; anything else is up to you). */
  log(line: string): void;
}

export interface GracefulShutdown {
  /**
   * First call: starts the drain and resolves when it has ended (by exit(0), exit(1) or the
   * deadline). Any later call: exit(1) now.
   */
  begin(reason: string): Promise<void>;
}

function validate(options: GracefulShutdownOptions): void {
  const { propagationDelayMs: delay, timeoutMs: timeout } = options;
  if (!Number.isFinite(delay) || delay < 0) throw new RangeError("propagationDelayMs must be a finite number >= 0");
  if (!Number.isFinite(timeout) || timeout <= delay) {
    throw new RangeError("timeoutMs must be finite and greater than propagationDelayMs, or the drain can never finish");
  }
}

/** Prepares the drain of `server`; nothing happens until begin(). */
export function createGracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  validate(options);
  const { server, log } = options;
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let closing = false;
  let exited = false;
  let ended: () => void = () => {};
  const done = new Promise<void>((resolve) => (ended = resolve));
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  /** The one way out: exit exactly once, with nothing of ours left scheduled. */
  const finish = (code: number) => {
    if (exited) return;
    exited = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    options.exit(code);
    ended();
  };

  const closeSoon = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
  };

  // Ahead of the app's own listener, so even a handler that answers synchronously gets
  // `Connection: close` once the drain has begun.
  server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) closeSoon(res);
    const settled = () => {
      if (!inFlight.delete(res)) return;
      // A response whose headers went out before the drain kept its socket alive: once the
      // socket is idle (a turn later), close it, or server.close() waits for keepAliveTimeout.
      if (closing) setImmediate(() => server.closeIdleConnections());
    };
    res.once("finish", settled);
    res.once("close", settled);
  });

  const closeResources = async (): Promise<number> => {
    let code = 0;
    // One after the other, in order: a cache in front of the database closes before it.
    for (const resource of options.resources) {
      try {
        await resource.close();
      } catch (error) {
        code = 1;
        log(`closing ${resource.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return code;
  };

  const stopAccepting = () => {
    closing = true;
    log("closing the server");
    server.close(() => {
      if (exited) return;
      log("server closed");
      void closeResources().then(finish);
    });
    // Node >= 19 does this inside close() too; saying it keeps the intent visible.
    server.closeIdleConnections();
  };

  return {
    begin(reason) {
      if (draining) {
        log(`${reason} again: exiting now`);
        finish(1);
        return done;
      }
      draining = true;
      options.markNotReady();
      log("draining");
      for (const res of inFlight) closeSoon(res);
      later(options.timeoutMs, () => {
        log(`drain deadline of ${options.timeoutMs} ms passed with ${inFlight.size} request(s) in flight`);
        server.closeAllConnections();
        finish(1);
      });
      later(options.propagationDelayMs, stopAccepting);
      return done;
    },
  };
}
