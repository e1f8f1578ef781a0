import { isIPv6 } from "node:net";
import express, { type Express, type Request, type RequestHandler, type Response } from "express";
import type { RateLimitDecision } from "./decision";

/** A quota policy as RateLimit-Policy announces it: `"name";q=quota;w=windowSeconds`. */
export interface QuotaPolicy {
  /** The policy's identifier; printable ASCII (it is sent as a Structured Field String). */
  name: string;
  /** Requests allowed per window: a non-negative integer. */
  quota: number;
  /** The window in whole seconds, at least 1. */
  windowSeconds: number;
}

/** Anything that decides requests per key: a token bucket, Redis GCRA, or a test double. */
export interface RateLimiter {
  consume(key: string, cost: number): Promise<RateLimitDecision> | RateLimitDecision;
}

/** Where the middleware reports that its store failed. */
export interface Logger {
  warn(message: string, context?: Record<string, unknown>): void;
}

/** The verified caller, set on `res.locals.principal` by authentication that runs first. */
export interface Principal {
  kind: "user" | "api-key";
  id: string;
}

export interface RateLimitOptions {
  limiter: RateLimiter;
  policy: QuotaPolicy;
  /** What to do when the limiter fails or is too slow: let requests through, or refuse them. */
  onLimiterError: "fail-open" | "fail-closed";
  logger?: Logger;
  /** How long to wait for the limiter before treating it as failed. Default 200 ms. */
  limiterTimeoutMs?: number;
  /** The partition a request counts against. Default: `partitionKey`. */
  keyOf?: (req: Request, res: Response) => string;
}

export interface AppOptions extends RateLimitOptions {
  /** The reverse proxies in front of the API, as Express's `trust proxy` takes them ("loopback", CIDRs). */
  trustedProxies: string[];
  /** Resolves the verified caller of a request (bearer token, API key), or undefined. */
  authenticate: (req: Request) => Principal | undefined;
  /** The protected route, GET /resource. Default: 200 `{ "ok": true }`. */
  handler?: RequestHandler;
}

const PROBLEM_TYPES = "https://iana.org/assignments/http-problem-types";
const SF_INTEGER_MAX = 999_999_999_999_999;

function validatePolicy(policy: QuotaPolicy): QuotaPolicy {
  if (!/^[\x20-\x7e]*$/.test(policy.name))
    throw new RangeError(
      `policy name must be printable ASCII to be a Structured Field String (got ${JSON.stringify(policy.name)})`,
    );
  if (!Number.isSafeInteger(policy.quota) || policy.quota < 0 || policy.quota > SF_INTEGER_MAX)
    throw new RangeError(`policy quota must be a non-negative integer (got ${policy.quota})`);
  if (
    !Number.isSafeInteger(policy.windowSeconds) ||
    policy.windowSeconds < 1 ||
    policy.windowSeconds > SF_INTEGER_MAX
  ) {
    throw new RangeError(`policy windowSeconds must be a positive integer (got ${policy.windowSeconds})`);
  }
  return { ...policy };
}

/** RFC 9651 sf-string: quoted, with backslash escaping `\` and `"`. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/** Whole seconds, rounded up: a client told 1 s for a 1.5 s wait would come back too early. */
function delaySeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** The first four groups of an IPv6 address, or undefined when it is not one. */
function ipv6Slash64(address: string): string | undefined {
  const bare = address.split("%")[0]!;
  if (!isIPv6(bare)) return undefined;
  const [head = "", tail] = bare.split("::");
  const groupsOf = (part: string) =>
    (part === "" ? [] : part.split(":")).flatMap((g) => (g.includes(".") ? ["0", "0"] : [g]));
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups =
    tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill("0"), ...back];
  return (
    groups
      .slice(0, 4)
      .map((g) => parseInt(g, 16).toString(16))
      .join(":") + "::/64"
  );
}

/**
 * The partition a request counts against: the verified user, else the verified API key, else
 * the client address as Express resolved it through `trust proxy`. Unverified headers never
 * choose a partition, or a client would pick a fresh one per request. IPv4-mapped IPv6 counts
 * as the IPv4 address; IPv6 is grouped by /64, the block one subscriber gets, since a single
 * host can rotate through its /64 at will.
 */
export function partitionKey(req: Request, res: Response): string {
  const principal = res.locals.principal as Principal | undefined;
  if (principal) return `${principal.kind}:${principal.id}`;
  const address = req.ip ?? req.socket.remoteAddress ?? "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return `ip:${mapped[1]}`;
  return `ip:${ipv6Slash64(address) ?? address}`;
}

/** Settles with the limiter's answer, or rejects when it throws, rejects or exceeds `timeoutMs`. */
function consumeWithin(limiter: RateLimiter, key: string, timeoutMs: number): Promise<RateLimitDecision> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rate limiter did not answer within ${timeoutMs} ms`)), timeoutMs);
    // Promise.resolve().then() turns a synchronous throw into a rejection too.
    Promise.resolve()
      .then(() => limiter.consume(key, 1))
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/**
 * Express middleware over any limiter. Every response it touches carries RateLimit-Policy and,
 * when the limiter answered, RateLimit (draft-ietf-httpapi-ratelimit-headers-10). A refused
 * request gets 429, Retry-After and an RFC 9457 problem. When the limiter fails, the policy
 * decides: fail-open serves the request (and warns once per outage, not once per request),
 * fail-closed answers 503.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const policy = validatePolicy(options.policy);
  const timeoutMs = options.limiterTimeoutMs ?? 200;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new RangeError(`limiterTimeoutMs must be positive (got ${timeoutMs})`);
  const keyOf = options.keyOf ?? partitionKey;
  const policyField = `${sfString(policy.name)};q=${policy.quota};w=${policy.windowSeconds}`;
  let failing = false;

  const problem = (res: Response, status: number, type: string, title: string) => {
    res
      .status(status)
      .type("application/problem+json")
      .send(JSON.stringify({ type: `${PROBLEM_TYPES}#${type}`, title, status, "violated-policies": [policy.name] }));
  };

  return (req, res, next) => {
    res.setHeader("RateLimit-Policy", policyField);
    // A throwing keyOf is a bug: Express 5 turns the synchronous throw into a 500.
    const key = keyOf(req, res);

    consumeWithin(options.limiter, key, timeoutMs).then(
      (decision) => {
        failing = false;
        const remaining = Math.max(0, Math.floor(decision.remaining));
        if (decision.allowed) {
          res.setHeader(
            "RateLimit",
            `${sfString(policy.name)};r=${remaining};t=${delaySeconds(decision.resetAfterMs)}`,
          );
          next();
          return;
        }
        if (Number.isFinite(decision.retryAfterMs)) {
          // Retry-After and t name the same instant: the draft asks that Retry-After never
          // point earlier than t, and clients give Retry-After precedence.
          const wait = Math.max(1, delaySeconds(decision.retryAfterMs));
          res.setHeader("Retry-After", String(wait));
          res.setHeader("RateLimit", `${sfString(policy.name)};r=0;t=${wait}`);
        } else {
          // This request can never fit the quota: no wait to advertise.
          res.setHeader("RateLimit", `${sfString(policy.name)};r=${remaining}`);
        }
        problem(res, 429, "quota-exceeded", "Request cannot be satisfied as assigned quota has been exceeded");
      },
      (error: unknown) => {
        // One warning per outage: a line per request would bury everything else in the logs
        // at the moment they matter most.
        if (!failing) {
          failing = true;
          options.logger?.warn(`rate limiter unavailable (${options.onLimiterError})`, { error });
        }
        if (options.onLimiterError === "fail-open") {
          next();
          return;
        }
        res.setHeader("Retry-After", "1");
        problem(
          res,
          503,
          "temporary-reduced-capacity",
          "Request cannot be satisfied due to temporary server capacity constraints",
        );
      },
    );
  };
}

/**
 * The API: Express trusting exactly the configured proxies (so req.ip is the client behind
 * them, and a client's own X-Forwarded-For entries are ignored), authentication, then the
 * limiter in front of GET /resource and everything else (a 404 is limited too).
 */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.set("trust proxy", options.trustedProxies);
  app.use((req, res, next) => {
    res.locals.principal = options.authenticate(req);
    next();
  });
  app.use(rateLimit(options));
  app.get("/resource", options.handler ?? ((_req, res) => void res.json({ ok: true })));
  return app;
}
