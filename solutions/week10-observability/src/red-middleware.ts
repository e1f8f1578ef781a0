import type { Request, RequestHandler } from "express";
import { scrape } from "./exposition";
import type { GaugeChild, Registry } from "./metrics-registry";

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

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

/** Known methods as sent, anything else as _OTHER (semconv): a client must not choose our label values. */
function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "_OTHER";
}

/** The matched route's template, with the mount path of its router: /api/users/:id, never /api/users/42. */
function routeLabel(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route === undefined || route.path === undefined) return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ""}${String(route.path)}`;
}

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * Express middleware recording RED metrics: requests (rate and errors, by status class) and
 * their duration in seconds, labelled by method, route template and status class, plus the
 * requests in flight. Mount it before the routes. Telemetry never fails a request: a metric
 * that refuses a sample (its series cap, say) loses that sample, not the response.
 */
export function redMiddleware(options: RedOptions): RequestHandler {
  const { registry } = options;
  const now = options.now ?? (() => performance.now());
  const labelNames = ["method", "route", "status_class"];
  const requests = registry.counter({
    name: "http_server_requests_total",
    help: "HTTP requests answered, by method, route template and status class.",
    labelNames,
  });
  const duration = registry.histogram({
    name: "http_server_request_duration_seconds",
    help: "Time from a request's arrival to the end of its response, in seconds.",
    unit: "seconds",
    labelNames,
    buckets: options.buckets ?? HTTP_SERVER_DURATION_BUCKETS,
  });
  const active = registry.gauge({
    name: "http_server_active_requests",
    help: "HTTP requests received and not yet finished or abandoned.",
    labelNames: ["method"],
  });

  return (req, res, next) => {
    const method = methodLabel(req.method);
    const start = now();
    let inFlight: GaugeChild | undefined;
    try {
      inFlight = active.labels({ method });
      inFlight.inc();
    } catch {
      inFlight = undefined;
    }
    let settled = false;
    // 'finish' means the response was handed over in full; 'close' without it means the client
    // went away first. Either ends the request, once: the gauge must come back down both ways.
    const settle = (answered: boolean): void => {
      if (settled) return;
      settled = true;
      inFlight?.dec();
      if (!answered) return;
      try {
        const labels = { method, route: routeLabel(req), status_class: statusClass(res.statusCode) };
        requests.inc(labels);
        duration.observe(labels, (now() - start) / 1000);
      } catch {
        // A sample the registry refuses is lost; the response it describes is not.
      }
    };
    res.once("finish", () => settle(true));
    res.once("close", () => settle(false));
    next();
  };
}

/** GET /metrics: the registry in the format the scraper's Accept header asks for. */
export function metricsHandler(registry: Registry): RequestHandler {
  return (req, res) => {
    const answer = scrape(registry, req.headers.accept);
    res.statusCode = 200;
    // Exactly the negotiated type, parameters included: the scraper parses the body by it.
    res.setHeader("Content-Type", answer.contentType);
    res.setHeader("Vary", "Accept");
    res.end(answer.body);
  };
}
