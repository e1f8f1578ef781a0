// Kata: red-middleware
//
// RED is what every request-driven service should expose first: the Rate of requests, how many
// are Errors, and their Duration. Build it as express middleware over your metrics registry:
// - http_server_requests_total{method, route, status_class}: one per answered request.
// - http_server_request_duration_seconds{method, route, status_class}: a histogram in SECONDS
//   (unit "seconds"), with OpenTelemetry's HTTP buckets (HTTP_SERVER_DURATION_BUCKETS). Time
//   comes from `now()`, in milliseconds, from the moment the middleware sees the request to
//   the response's 'finish'.
// - http_server_active_requests{method}: requests in flight, up when one arrives, down when
//   its response finishes OR its connection closes first (a client that gives up). Exactly
//   once either way. An abandoned request has no status: it is not counted in the other two.
// - Labels: method as sent for GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE and PATCH,
//   "_OTHER" for any other; route is the matched route's TEMPLATE with its router's mount path
//   (/api/users/:id, never /api/users/42), or UNMATCHED_ROUTE; status_class is "2xx", "4xx"...
//   A label taken from the raw path gives every id its own series, and the metrics backend
//   falls over on the first crawler.
// - Telemetry never fails a request: if the registry refuses a sample (its series cap), that
//   sample is lost and the response goes out as usual.
// - metricsHandler(registry): GET /metrics in the format the Accept header asks for, with
//   exactly that format's Content-Type (use scrape() from ./exposition).
//
// Tests: tests/red-middleware.test.ts (npm run check week10 red-middleware).
// Keep the exported names and signatures: the tests import them.

import type { RequestHandler } from "express";
import { NotImplementedError } from "#kata";
import type { Registry } from "./metrics-registry";

/** OpenTelemetry's HTTP semantic conventions: http.server.request.duration buckets, in seconds. */
export const HTTP_SERVER_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The route label of a request no route matched: a 404 probe must not mint a series per path. */
export const UNMATCHED_ROUTE = "unmatched";

export interface RedOptions {
  /** Where the three metrics are registered. */
  registry: Registry;
  /** A monotonic clock in milliseconds; default performance.now(). */
  now?: () => number;
  /** Duration buckets in seconds; default HTTP_SERVER_DURATION_BUCKETS. */
  buckets?: readonly number[];
}

/** Express middleware recording RED metrics; mount it before the routes. */
export function redMiddleware(options: RedOptions): RequestHandler {
  // TODO: register the three metrics, then return (req, res, next) => { ... }. req.route and
  // req.baseUrl are only known once routing is done: read them when the response finishes.
  throw new NotImplementedError("red-middleware");
}

/** GET /metrics: the registry in the format the scraper's Accept header asks for. */
export function metricsHandler(registry: Registry): RequestHandler {
  // TODO: scrape(), then answer with exactly its Content-Type (parameters included) and body.
  throw new NotImplementedError("red-middleware");
}
