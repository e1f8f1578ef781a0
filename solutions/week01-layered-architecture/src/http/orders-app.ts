import express, { type Express, type Request, type RequestHandler } from "express";
import { z } from "zod";
import { NotFoundError, ValidationError } from "../errors";
import { ORDER_LIMITS, type Order, type OrderStatus } from "../order";
import type { OrderUseCases, PlaceOrderCommand } from "../ports";
import { HttpProblem, issuesFrom, notFound, problemHandler } from "./problem-details";

/** The wire format of an order: what clients see, decoupled from the domain type. */
export interface OrderDto {
  id: string;
  customerId: string;
  status: OrderStatus;
  lines: { sku: string; quantity: number; unitPriceCents: number; lineTotalCents: number }[];
  totalCents: number;
  /** ISO 8601, UTC, millisecond precision. */
  createdAt: string;
  updatedAt: string;
}

export interface OrdersAppOptions {
  /** Receives the original error of every 500. Defaults to console.error. */
  report?: (error: unknown) => void;
  /** The largest JSON body accepted, in bytes. Defaults to 16 KiB. */
  bodyLimitBytes?: number;
}

// An empty string fails the regex too, so one bad id gives one issue, not two.
const identifier = z.string().max(ORDER_LIMITS.maxIdLength).regex(/\S/, "must not be blank");

// Strict objects: an unknown key is an error, not silently dropped. A client that sends
// unitPriceCents or status learns at once that it cannot set them (no mass assignment).
const placeOrderBody = z.strictObject({
  customerId: identifier,
  lines: z
    .array(
      z.strictObject({
        sku: identifier,
        quantity: z.number().int().min(1).max(ORDER_LIMITS.maxQuantity),
      }),
    )
    .min(1)
    .max(ORDER_LIMITS.maxLines),
});

const cancelBody = z.strictObject({});

// Order ids are UUIDs (crypto.randomUUID): anything else cannot name an order, and is
// answered without a trip to the service or the database behind it.
const orderParams = z.strictObject({ id: z.uuid() });

/** The order DTO for a domain order. */
export function toOrderDto(order: Order): OrderDto {
  return {
    id: order.id,
    customerId: order.customerId,
    status: order.status,
    lines: order.lines.map((line) => ({
      sku: line.sku,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
      lineTotalCents: line.quantity * line.unitPriceCents,
    })),
    totalCents: order.totalCents,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ValidationError(issuesFrom(parsed.error));
  return parsed.data;
}

function orderId(req: Request): string {
  const parsed = orderParams.safeParse(req.params);
  if (!parsed.success) throw new NotFoundError(String(req.params.id));
  return parsed.data.id;
}

/** A request with content must say it is JSON; one without (no body, or Content-Length: 0) passes. */
const requireJson: RequestHandler = (req, _res, next) => {
  // req.is() is null without a body and false for another type, but it counts
  // "Content-Length: 0" as a body: many clients send that on a bodiless POST, and it is no
  // reason for a 415.
  const empty = req.headers["content-length"] === "0";
  if (!empty && req.is("application/json") === false) throw new HttpProblem(415, "The body must be application/json.");
  next();
};

/** The catch-all of a route: OPTIONS lists the methods, anything else is a 405 that says them. */
function onlyMethods(allow: string): RequestHandler {
  return (req, res) => {
    if (req.method === "OPTIONS") {
      res.set("Allow", allow).status(204).end();
      return;
    }
    throw new HttpProblem(405, `This resource supports ${allow}.`, { Allow: allow });
  };
}

/**
 * The HTTP adapter of the order use cases: parse and validate, call the service, map the
 * result to a DTO and every error to an RFC 9457 problem. No business rule lives here.
 */
export function createOrdersApp(orders: OrderUseCases, options: OrdersAppOptions = {}): Express {
  const { report = (error: unknown) => console.error(error), bodyLimitBytes = 16 * 1024 } = options;
  const json = express.json({ limit: bodyLimitBytes });
  const router = express.Router();

  router
    .route("/")
    .post(requireJson, json, async (req, res) => {
      const command: PlaceOrderCommand = parseBody(placeOrderBody, req.body);
      const order = await orders.placeOrder(command);
      res
        .status(201)
        .location(`${req.baseUrl}/${encodeURIComponent(order.id)}`)
        .json(toOrderDto(order));
    })
    .all(onlyMethods("POST"));

  router
    .route("/:id")
    .get(async (req, res) => {
      res.json(toOrderDto(await orders.getOrder(orderId(req))));
    })
    .all(onlyMethods("GET, HEAD"));

  router
    .route("/:id/cancel")
    .post(requireJson, json, async (req, res) => {
      const id = orderId(req);
      // No body, or an empty object: a cancel takes no options, and saying so beats ignoring them.
      parseBody(cancelBody, req.body ?? {});
      res.json(toOrderDto(await orders.cancelOrder(id)));
    })
    .all(onlyMethods("POST"));

  const app = express();
  // Telling the world which framework (and so which CVEs) you run helps nobody but attackers.
  app.disable("x-powered-by");
  app.use("/orders", router);
  app.use(notFound);
  app.use(problemHandler(report));
  return app;
}
