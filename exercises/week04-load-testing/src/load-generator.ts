/**
 * Kata `load-generator`: a closed-model load generator, the model of ab, wrk and autocannon.
 *
 * `connections` virtual users each hold one keep-alive connection and loop: send a request,
 * wait for the whole response, record its latency, send the next. The run ends when the
 * request budget is spent (over all users together, not per user) or when `durationMs` has
 * passed on the injected clock; requests already in flight are allowed to finish. Then every
 * connection is closed before runLoad resolves: a tool that leaks sockets or leaves a timer
 * armed cannot be run in a loop, or in a test.
 *
 * Count apart what went wrong, because each needs a different fix: responses per status code
 * (a 503 is still a response, with a latency), transport errors per code (ECONNREFUSED, ...),
 * and timeouts. Latency goes into your Histogram from kata `histogram`, in microseconds.
 *
 * Given: ./http-connection (a keep-alive HTTP/1.1 connection on a raw socket, with a
 * per-request timeout; node:http with a keep-alive Agent passes the tests too, but spends
 * more CPU per request than the server it measures) and ./measurement (units and small
 * helpers). Covered by tests/load-generator.test.ts.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Histogram } from "./histogram";
import type { RequestSpec } from "./http-connection";

export interface LoadOptions extends RequestSpec {
  /** The http:// URL every request goes to. */
  url: string;
  /** How many connections (virtual users) run at once, each with one request in flight. A positive integer. */
  connections: number;
  /** Stop starting requests once this many milliseconds have passed on `clock`. Positive and finite. */
  durationMs?: number;
  /** Stop after this many requests in total, over all connections. A positive integer. */
  requests?: number;
  /**
   * A request unanswered after this many milliseconds is a timeout; its connection is replaced.
   * Positive and finite. Default 10 000.
   */
  timeoutMs?: number;
  /** Milliseconds, for latency and the duration bound. Default performance.now. */
  clock?: () => number;
}

export interface LoadResult {
  /** Requests started. */
  sent: number;
  /** Responses received, whatever their status. */
  completed: number;
  /** Responses per status code, e.g. { "200": 98, "503": 2 }. */
  statusCodes: Record<string, number>;
  /** Requests that failed without a response, timeouts excluded. */
  errors: number;
  /** The same failures per error code (ECONNREFUSED, ECONNRESET, ...). */
  errorsByCode: Record<string, number>;
  /** Requests that got no answer within timeoutMs. */
  timeouts: number;
  /** Latency of every completed response, in microseconds. */
  latency: Histogram;
  /** From the start to the last response, in milliseconds of `clock`. */
  elapsedMs: number;
  /** completed / elapsed seconds. */
  requestsPerSecond: number;
}

/**
 * Runs a closed-model load test and resolves once every connection is closed. Rejects with a
 * RangeError, sending nothing, for a run without a bound (neither durationMs nor requests) or
 * with an option outside its range; the message names the option (`connections`, ...; in any
 * case, with or without spaces between its words).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  // TODO: validate; serialize the request once (serializeRequest); one shared "may I start
  // another request?" check for all users; one HttpConnection per user; count, record, close.
  void options;
  throw new NotImplementedError("load-generator");
}
