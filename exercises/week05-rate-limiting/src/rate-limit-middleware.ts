// Kata: rate-limit-middleware
//
// The limiter decides; the HTTP layer must tell the client, in the standard words, and must
// pick the right client to count. Build express middleware over any RateLimiter:
// - Partition key: the verified user, else the verified API key (both set by authentication
//   on res.locals.principal), else the client address. That address is req.ip, which Express
//   derives from X-Forwarded-For only as far as `trust proxy` allows: configure it to trust
//   exactly the given proxies, or a client writes its own X-Forwarded-For and escapes the
//   limit. Count IPv4-mapped IPv6 as IPv4, and IPv6 per /64.
// - Every response carries RateLimit-Policy (`"default";q=100;w=60`) and, when the limiter
//   answered, RateLimit (`"default";r=50;t=30`): Structured Field Lists as in
//   draft-ietf-httpapi-ratelimit-headers-10. r and t are Integers: r is the whole requests
//   left (rounded down), t the seconds until the quota is whole again (resetAfterMs, rounded
//   up). No `pk` parameter: it would echo the partition key back.
// - A refused request gets 429, Retry-After in whole seconds rounded up (RFC 9110 §10.2.3;
//   none when retryAfterMs is Infinity), a t no later than that Retry-After, and an RFC 9457
//   problem (application/problem+json, type ...#quota-exceeded, "violated-policies"). The
//   handler is not called.
// - When the limiter throws, rejects or does not answer within limiterTimeoutMs:
//   "fail-open" serves the request; "fail-closed" answers 503 with a
//   ...#temporary-reduced-capacity problem and Retry-After. Either way, warn through the
//   logger once per outage (not once per request), with the limiter's error in the message or
//   the context; the next failure after the limiter answered again is a new outage.
//
// Tests: tests/rate-limit-middleware.test.ts (npm run check week5 rate-limit-middleware).
// Keep the exported names and signatures: the tests import them.

import type { Express, Request, RequestHandler, Response } from "express";
import { NotImplementedError } from "#kata";
import type { RateLimitDecision } from "./decision";

/** A quota policy as RateLimit-Policy announces it: `"name";q=quota;w=windowSeconds`. */
export interface QuotaPolicy {
  /** The policy's identifier; printable ASCII (it is sent as a Structured Field String). */
  name: string;
  /** Requests allowed per window: a non-negative integer of at most 15 digits (an sf-integer). */
  quota: number;
  /** The window in whole seconds, at least 1, at most 15 digits (an sf-integer). */
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
  /** How long to wait for the limiter before treating it as failed: positive and finite (RangeError otherwise). Default 200 ms. */
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

/** The partition a request counts against: verified user, verified API key, else client address. */
export function partitionKey(req: Request, res: Response): string {
  // TODO: res.locals.principal first; then req.ip, normalised (::ffff:a.b.c.d, IPv6 /64).
  throw new NotImplementedError("rate-limit-middleware");
}

/** Express middleware over any limiter, speaking RateLimit fields, Retry-After and RFC 9457. */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  // TODO: validate the policy and limiterTimeoutMs (a RangeError whose message names the field
  // at fault: name, quota, windowSeconds, limiterTimeoutMs), then return (req, res, next) => { ... }.
  throw new NotImplementedError("rate-limit-middleware");
}

/** The API: trust proxy, authentication, the limiter in front of everything, GET /resource. */
export function createApp(options: AppOptions): Express {
  // TODO: express(), `trust proxy` set to options.trustedProxies, a middleware that stores
  // options.authenticate(req) on res.locals.principal, rateLimit(options), then the route.
  throw new NotImplementedError("rate-limit-middleware");
}
