/**
 * A closed-model load generator: `connections` virtual users, each on its own keep-alive
 * connection, each sending its next request as soon as the previous one is answered.
 */
import { Histogram } from "./histogram";
import { HttpConnection, type RequestSpec, RequestTimeoutError, serializeRequest, targetOf } from "./http-connection";
import { countsToRecord, errorCode, HIGHEST_LATENCY_US, LATENCY_SIGNIFICANT_FIGURES, toMicros } from "./measurement";

export interface LoadOptions extends RequestSpec {
  /** The http:// URL every request goes to. */
  url: string;
  /** How many connections (virtual users) run at once, each with one request in flight. */
  connections: number;
  /** Stop starting requests once this many milliseconds have passed on `clock`. */
  durationMs?: number;
  /** Stop after this many requests in total, over all connections. */
  requests?: number;
  /** A request unanswered after this many milliseconds is a timeout; its connection is replaced. Default 10 000. */
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

function validate(options: LoadOptions): void {
  if (!Number.isSafeInteger(options.connections) || options.connections < 1) {
    throw new RangeError(`connections must be a positive integer, got ${options.connections}`);
  }
  if (options.durationMs === undefined && options.requests === undefined) {
    throw new RangeError("give durationMs, requests or both: an unbounded run never ends");
  }
  if (options.durationMs !== undefined && !(options.durationMs > 0 && Number.isFinite(options.durationMs))) {
    throw new RangeError(`durationMs must be a positive number, got ${options.durationMs}`);
  }
  if (options.requests !== undefined && (!Number.isSafeInteger(options.requests) || options.requests < 1)) {
    throw new RangeError(`requests must be a positive integer, got ${options.requests}`);
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0 && Number.isFinite(options.timeoutMs))) {
    throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
  }
}

/** Runs a closed-model load test and resolves once every connection is closed. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  validate(options);
  const target = targetOf(options.url);
  const rawRequest = serializeRequest(options.url, options);
  const requestOptions = {
    head: (options.method ?? "GET").toUpperCase() === "HEAD",
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const clock = options.clock ?? (() => performance.now());
  const { durationMs, requests: requestLimit } = options;

  const latency = new Histogram({
    highestTrackableValue: HIGHEST_LATENCY_US,
    significantFigures: LATENCY_SIGNIFICANT_FIGURES,
  });
  const statusCodes = new Map<number, number>();
  const errorsByCode = new Map<string, number>();
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let timeouts = 0;

  const startedAt = clock();
  // One budget for all users: N users checking their own share would overshoot a request
  // limit that does not divide by N, and could not stop together at the deadline.
  const mayStart = (): boolean => {
    if (requestLimit !== undefined && sent >= requestLimit) return false;
    if (durationMs !== undefined && clock() - startedAt >= durationMs) return false;
    sent++;
    return true;
  };

  const user = async (): Promise<void> => {
    // Created lazily by its first request, so users beyond the request limit never connect.
    const connection = new HttpConnection(target);
    try {
      while (mayStart()) {
        const requestStart = clock();
        try {
          const status = await connection.request(rawRequest, requestOptions);
          latency.recordValue(toMicros(clock() - requestStart));
          statusCodes.set(status, (statusCodes.get(status) ?? 0) + 1);
          completed++;
        } catch (error) {
          if (error instanceof RequestTimeoutError) {
            timeouts++;
          } else {
            errors++;
            const code = errorCode(error);
            errorsByCode.set(code, (errorsByCode.get(code) ?? 0) + 1);
          }
        }
      }
    } finally {
      await connection.close();
    }
  };

  await Promise.all(Array.from({ length: options.connections }, user));

  const elapsedMs = clock() - startedAt;
  return {
    sent,
    completed,
    statusCodes: countsToRecord(statusCodes),
    errors,
    errorsByCode: countsToRecord(errorsByCode),
    timeouts,
    latency,
    elapsedMs,
    requestsPerSecond: elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0,
  };
}
