/**
 * An open-model (constant arrival rate) load generator. Arrival i is due at
 * start + i * 1000 / rate, whether or not earlier requests have been answered, and its latency
 * is measured from that intended time: a request that waited for a free connection behind a
 * stalled one is charged for the wait, which is what a user arriving then would have felt.
 */
import { Histogram } from "./histogram";
import { HttpConnection, type RequestSpec, RequestTimeoutError, serializeRequest, targetOf } from "./http-connection";
import { countsToRecord, errorCode, HIGHEST_LATENCY_US, LATENCY_SIGNIFICANT_FIGURES, toMicros } from "./measurement";

export interface OpenModelOptions extends RequestSpec {
  /** The http:// URL every request goes to. */
  url: string;
  /** Arrivals per second. */
  ratePerSecond: number;
  /** Length of the schedule: round(rate * duration / 1000) arrivals, one every 1000 / rate ms. */
  durationMs: number;
  /** At most this many requests in flight, one per keep-alive connection. Default 100. */
  connections?: number;
  /** A request unanswered after this many milliseconds is a timeout. Default 10 000. */
  timeoutMs?: number;
  /** How late the generator may release an arrival before the run is invalid. Default 50 ms. */
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
  /** Why the numbers were withheld. */
  reason: string;
}

export type OpenModelResult = ValidOpenModelResult | InvalidOpenModelResult;

function validate(options: OpenModelOptions): void {
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && !(value > 0 && Number.isFinite(value)))
      throw new RangeError(`${name} must be a positive number, got ${value}`);
  };
  positive("ratePerSecond", options.ratePerSecond);
  positive("durationMs", options.durationMs);
  positive("timeoutMs", options.timeoutMs);
  if (options.maxScheduleLagMs !== undefined && !(options.maxScheduleLagMs >= 0)) {
    throw new RangeError(`maxScheduleLagMs must be >= 0, got ${options.maxScheduleLagMs}`);
  }
  if (options.connections !== undefined && (!Number.isSafeInteger(options.connections) || options.connections < 1)) {
    throw new RangeError(`connections must be a positive integer, got ${options.connections}`);
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the schedule; resolves when every sent request has ended and every connection is closed. */
export async function runOpenModel(options: OpenModelOptions): Promise<OpenModelResult> {
  validate(options);
  const target = targetOf(options.url);
  const rawRequest = serializeRequest(options.url, options);
  const requestOptions = {
    head: (options.method ?? "GET").toUpperCase() === "HEAD",
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? realSleep;
  const maxConnections = options.connections ?? 100;
  const maxLag = options.maxScheduleLagMs ?? 50;
  const interval = 1000 / options.ratePerSecond;
  const scheduled = Math.max(1, Math.round((options.ratePerSecond * options.durationMs) / 1000));

  const latency = new Histogram({
    highestTrackableValue: HIGHEST_LATENCY_US,
    significantFigures: LATENCY_SIGNIFICANT_FIGURES,
  });
  const serviceTime = new Histogram({
    highestTrackableValue: HIGHEST_LATENCY_US,
    significantFigures: LATENCY_SIGNIFICANT_FIGURES,
  });
  const statusCodes = new Map<number, number>();
  const errorsByCode = new Map<string, number>();
  let completed = 0;
  let errors = 0;
  let timeouts = 0;
  let maxScheduleLagMs = 0;

  const connections: HttpConnection[] = [];
  const idle: HttpConnection[] = [];
  // The queue of released-but-unsent arrivals is the index range [sent, released): arrivals
  // leave in order, so two counters replace a queue and memory stays constant.
  let released = 0;
  let sent = 0;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const startedAt = clock();
  const intendedStart = (arrival: number) => startedAt + arrival * interval;

  const send = (connection: HttpConnection, arrival: number): void => {
    const intended = intendedStart(arrival);
    const sentAt = clock();
    sent++;
    inFlight++;
    connection.request(rawRequest, requestOptions).then(
      (status) => {
        const end = clock();
        latency.recordValue(toMicros(end - intended));
        serviceTime.recordValue(toMicros(end - sentAt));
        statusCodes.set(status, (statusCodes.get(status) ?? 0) + 1);
        completed++;
        finish(connection);
      },
      (error: unknown) => {
        if (error instanceof RequestTimeoutError) timeouts++;
        else {
          errors++;
          const code = errorCode(error);
          errorsByCode.set(code, (errorsByCode.get(code) ?? 0) + 1);
        }
        finish(connection);
      },
    );
  };

  const finish = (connection: HttpConnection): void => {
    inFlight--;
    idle.push(connection);
    pump();
    if (inFlight === 0) drained?.();
  };

  // Hands released arrivals to free connections, opening new ones up to the limit. Arrivals
  // that find none wait, and their wait counts in `latency`: that is the point of the model.
  const pump = (): void => {
    while (sent < released) {
      let connection = idle.pop();
      if (!connection && connections.length < maxConnections) {
        connection = new HttpConnection(target);
        connections.push(connection);
      }
      if (!connection) return;
      send(connection, sent);
    }
  };

  let invalidReason: string | undefined;
  while (released < scheduled) {
    const now = clock();
    const due = intendedStart(released);
    if (now < due) {
      await sleep(due - now);
      continue;
    }
    // The oldest arrival released now is the latest one: its lag is this wake-up's lag.
    const lag = now - due;
    if (lag > maxScheduleLagMs) maxScheduleLagMs = lag;
    if (lag > maxLag) {
      invalidReason =
        `the generator released an arrival ${lag.toFixed(1)} ms after its intended time (limit ${maxLag} ms): ` +
        "its own delay would be reported as the server's latency";
      break;
    }
    while (released < scheduled && intendedStart(released) <= now) released++;
    pump();
  }
  // An invalid run sends nothing more: arrivals still queued are dropped with the run.
  if (invalidReason !== undefined) released = sent;

  if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  const elapsedMs = clock() - startedAt;
  await Promise.all(connections.map((connection) => connection.close()));

  const counts: OpenModelCounts = {
    scheduled,
    sent,
    completed,
    statusCodes: countsToRecord(statusCodes),
    errors,
    errorsByCode: countsToRecord(errorsByCode),
    timeouts,
    maxScheduleLagMs,
    elapsedMs,
  };
  if (invalidReason !== undefined) return { ...counts, valid: false, reason: invalidReason };
  return { ...counts, valid: true, latency, serviceTime };
}
