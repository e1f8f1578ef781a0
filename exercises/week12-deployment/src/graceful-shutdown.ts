// Kata: graceful-shutdown (part 1: the drain)
//
// Every deploy, scale-down and node drain ends a pod the same way: the kubelet sends SIGTERM,
// waits terminationGracePeriodSeconds, then SIGKILLs whatever is left. Meanwhile, and with
// no ordering guarantee, the pod is removed from the Service's endpoints: load balancers keep
// sending it new requests for a few seconds after the signal. A server that exits at once
// drops those requests and every request it was still serving.
//
// Build createGracefulShutdown(options). Its begin(reason) runs the drain, in this order:
// 1. markNotReady() at once (readiness answers 503 from now on), and log a line `draining`.
// 2. Keep serving for propagationDelayMs, so the load balancers notice and stop routing here.
//    Responses sent from now on carry `Connection: close`, so keep-alive clients reconnect
//    elsewhere.
// 3. Stop accepting connections (server.close()), close idle keep-alive sockets at once, and
//    close each in-flight request's socket as soon as its response is sent: Node's close()
//    otherwise waits for those sockets' keepAliveTimeout before it calls back.
// 4. When the last connection has ended, close the resources one after the other, in order
//    (a pool must outlive every request that uses it). Then exit(0).
//    If a resource's close() fails, still close the others, then exit(1).
// 5. A deadline of timeoutMs, counted from the first begin(): if the drain has not finished
//    by then, exit(1) without waiting further. A second begin() (the impatient second Ctrl-C,
//    or the supervisor insisting) also exits(1) at once. exit is called exactly once, and
//    after a clean drain no timer of yours is left running.
// Options are validated: delays that are not finite and >= 0, or a timeoutMs that is not
// greater than propagationDelayMs (the drain could never finish), are a RangeError.
//
// Part 2 is server-main.ts, the process that routes the signals here.
// Tests: tests/graceful-shutdown.test.ts (in process) and tests/graceful-shutdown-process.test.ts
// (a real child process and real signals): npm run check week12 graceful-shutdown.
// Keep the exported names and signatures: the tests import them.

import type { Server } from "node:http";
import { NotImplementedError } from "#kata";

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

/** Prepares the drain of `server`; nothing happens until begin(). */
export function createGracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  // TODO: validate the options.
  // TODO: begin(): the five steps of the header. Track the requests in flight (the server's
  // "request" event, and each response's "finish"/"close") to know when one ends while draining.
  void options;
  throw new NotImplementedError("graceful-shutdown");
}
