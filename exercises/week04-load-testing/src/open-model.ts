/**
 * Kata `open-model`: a constant-arrival-rate generator, the model of wrk2 and k6's
 * constant-arrival-rate executor, and the cure for coordinated omission.
 *
 * Real users do not wait for each other: arrival i is due at start + i * 1000 / rate whether or
 * not earlier requests were answered. Release each arrival at its time (a late timer releases
 * every arrival that came due meanwhile, at once), send it on a free connection (opening new
 * ones up to `connections`; when none is free it waits in line), and record two latencies per
 * response in your Histogram, in microseconds:
 * - `latency`: from the arrival's intended start to the end of its response, the number a user
 *   would report, waiting for a connection included;
 * - `serviceTime`: from the moment it was actually sent, the number a closed-model tool reports.
 *
 * A generator can be the bottleneck too: a blocked event loop or a saturated CPU releases
 * arrivals late, and measuring from the intended start would then charge the generator's delay
 * to the server. Track how late each release is (its schedule lag); past `maxScheduleLagMs`,
 * stop sending, let the requests in flight finish, close everything, and return an invalid
 * result that carries no latency at all, only the reason.
 *
 * Time comes from the injected `clock` and `sleep`, so the tests can make a timer fire late on
 * purpose. Given: ./http-connection and ./measurement. Covered by tests/open-model.test.ts.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Histogram } from "./histogram";
import type { RequestSpec } from "./http-connection";

export interface OpenModelOptions extends RequestSpec {
  /** The http:// URL every request goes to. */
  url: string;
  /** Arrivals per second. Positive and finite. */
  ratePerSecond: number;
  /** Length of the schedule: round(rate * duration / 1000) arrivals, one every 1000 / rate ms. Positive and finite. */
  durationMs: number;
  /** At most this many requests in flight, one per keep-alive connection. A positive integer. Default 100. */
  connections?: number;
  /** A request unanswered after this many milliseconds is a timeout. Positive and finite. Default 10 000. */
  timeoutMs?: number;
  /** How late the generator may release an arrival before the run is invalid: 0 or more (Infinity: never). Default 50 ms. */
  maxScheduleLagMs?: number;
  /** Milliseconds, for the schedule and every latency. Default performance.now. */
  clock?: () => number;
  /** Waits `ms` milliseconds of `clock`. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** What every run reports, valid or not. */
export interface OpenModelCounts {
  /** Arrivals in the schedule. */
  scheduled: number;
  /** Requests actually sent (fewer than scheduled when the run was stopped as invalid). */
  sent: number;
  /** Responses received, whatever their status. */
  completed: number;
  /** Responses per status code, e.g. { "200": 98, "503": 2 }. */
  statusCodes: Record<string, number>;
  /** Requests that failed without a response, timeouts excluded. */
  errors: number;
  /** The same failures per error code. */
  errorsByCode: Record<string, number>;
  /** Requests that got no answer within timeoutMs. */
  timeouts: number;
  /** The latest the generator ever released an arrival, in ms after its intended time. */
  maxScheduleLagMs: number;
  /** From the schedule's start to the last response, in ms of `clock`. */
  elapsedMs: number;
}

/** A run whose numbers can be trusted. */
export interface ValidOpenModelResult extends OpenModelCounts {
  valid: true;
  /** Per completed response, from its intended start to its end, in microseconds. */
  latency: Histogram;
  /** Per completed response, from the moment it was sent to its end, in microseconds: what a closed-model tool reports. */
  serviceTime: Histogram;
}

/** A run stopped because the generator fell behind its own schedule: it measured itself. */
export interface InvalidOpenModelResult extends OpenModelCounts {
  valid: false;
  /** Why the numbers were withheld, naming the lag that broke the limit in ms ("... 312.4 ms late ..."). */
  reason: string;
}

export type OpenModelResult = ValidOpenModelResult | InvalidOpenModelResult;

/**
 * Runs the schedule; resolves when every sent request has ended and every connection is
 * closed. Rejects with a RangeError, sending nothing, for an option outside its range; the
 * message names the option (`ratePerSecond`, ...; in any case, with or without spaces).
 */
export async function runOpenModel(options: OpenModelOptions): Promise<OpenModelResult> {
  // TODO: a dispatcher loop that sleeps until the next intended time and measures its lag;
  // a queue of released arrivals (two counters are enough: they leave in order); a pool of
  // connections that take the next queued arrival when they become free.
  void options;
  throw new NotImplementedError("open-model");
}
