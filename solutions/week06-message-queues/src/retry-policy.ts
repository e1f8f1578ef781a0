// Reference solution for the `retrying-worker` kata, part 1: the retry policy as pure functions.

/** How a worker retries: attempts, an exponential backoff ceiling, and jitter under it. */
export interface RetryPolicy {
  /** Total attempts, the first one included (BullMQ's `attempts`). */
  readonly attempts: number;
  /** The delay ceiling before the second attempt; it doubles for every attempt after that. */
  readonly baseDelayMs: number;
  /** No single delay exceeds this, and a Retry-After beyond it is not worth waiting for. */
  readonly maxDelayMs: number;
  /** 0 to 1: the share of the ceiling that is randomised away (1 is "full jitter"). */
  readonly jitter: number;
}

/** An HTTP upstream answered with an error status, maybe with a Retry-After header value. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The raw Retry-After header value, if the response had one. */
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

export type FailureKind = "transient" | "permanent";

/** Fails fast on a policy that would retry forever, never, or by NaN milliseconds. */
export function assertRetryPolicy(policy: RetryPolicy): void {
  const { attempts, baseDelayMs, maxDelayMs, jitter } = policy;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError(`attempts must be an integer >= 1, got ${attempts}`);
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0)
    throw new RangeError(`baseDelayMs must be >= 0, got ${baseDelayMs}`);
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < baseDelayMs) {
    throw new RangeError(`maxDelayMs must be finite and >= baseDelayMs, got ${maxDelayMs}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be between 0 and 1, got ${jitter}`);
}

// Statuses that say "try again later": timeout, too early, too many requests.
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);

/**
 * Whether retrying can help. A 4xx means the request itself is wrong and will be wrong again
 * (except the three "later" statuses); 5xx, network errors and anything unknown may pass on
 * a later attempt, so they are transient.
 */
export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof Error && error.name === "UnrecoverableError") return "permanent";
  if (error instanceof UpstreamError) {
    const clientError = error.status >= 400 && error.status < 500;
    return clientError && !RETRYABLE_CLIENT_STATUSES.has(error.status) ? "permanent" : "transient";
  }
  return "transient";
}

/**
 * The delay before the next attempt after `attemptsMade` attempts (1 after the first
 * failure): a ceiling of baseDelayMs * 2^(attemptsMade - 1), capped at maxDelayMs, minus a
 * random share of up to `jitter` of it, so that jobs that failed together do not come back
 * together.
 */
export function backoffDelayMs(attemptsMade: number, policy: RetryPolicy, random: () => number): number {
  // Past 2^52 the ceiling is the cap anyway; clamping the exponent keeps Infinity and
  // 0 * Infinity = NaN out of the arithmetic.
  const exponent = Math.min(Math.max(attemptsMade - 1, 0), 52);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.round(ceiling - ceiling * policy.jitter * random());
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const TIME = String.raw`(\d{2}):(\d{2}):(\d{2})`;
const MONTH = `(${MONTHS.join("|")})`;
// RFC 9110 section 5.6.7: the preferred IMF-fixdate and the two obsolete forms a recipient must accept.
const IMF_FIXDATE = new RegExp(`^(?:${WEEKDAYS.join("|")}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:${LONG_WEEKDAYS.join("|")}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^(?:${WEEKDAYS.join("|")}) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utc(
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  // Date.UTC would roll 24:00, 12:60 or 31 Feb over into the next unit: refuse what does not exist.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const at = Date.UTC(year, MONTHS.indexOf(month), day, hour, minute, second);
  return new Date(at).getUTCDate() === day ? at : undefined;
}

/** Parses an HTTP-date in any of its three forms into epoch milliseconds. */
function parseHttpDate(value: string, nowMs: number): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = ASCTIME_DATE.exec(value);
  // Number(" 6") is 6: the space that pads a one-digit day needs no trimming.
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  m = RFC850_DATE.exec(value);
  if (m) {
    // A two-digit year that would lie more than 50 years ahead belongs to the previous century.
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = nowYear - (nowYear % 100) + Number(m[3]);
    if (year > nowYear + 50) year -= 100;
    return utc(year, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  return undefined;
}

/**
 * A Retry-After header value (RFC 9110 section 10.2.3) as milliseconds from `nowMs`:
 * delay-seconds or an HTTP-date; a date in the past is 0. Undefined when the value is
 * neither, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    // An absurd number of seconds stays absurd (and is refused by the caller's cap) rather than overflowing.
    return Math.min(Number(trimmed) * 1000, Number.MAX_SAFE_INTEGER);
  }
  const at = parseHttpDate(trimmed, nowMs);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}

/**
 * The BullMQ backoff for a failed attempt: the upstream's Retry-After when the error carries a
 * valid one, else the exponential backoff. -1 tells BullMQ to stop retrying, which is the
 * answer when the upstream asks for a longer wait than the policy allows.
 */
export function retryDelayMs(
  attemptsMade: number,
  error: unknown,
  policy: RetryPolicy,
  random: () => number,
  nowMs: number,
): number {
  if (error instanceof UpstreamError && error.retryAfter !== undefined) {
    const asked = parseRetryAfter(error.retryAfter, nowMs);
    // Retrying before the upstream allows it only spends an attempt on a certain 429.
    if (asked !== undefined) return asked > policy.maxDelayMs ? -1 : asked;
  }
  return backoffDelayMs(attemptsMade, policy, random);
}
