/**
 * Kata http-api (2 of 2): the HTTP adapter of the order use cases, on express 5.
 *
 * The app translates between HTTP and the OrderUseCases port (../ports), and nothing more: no
 * business rule lives here. tests/http-api.test.ts drives it with supertest over a test double
 * of the port. The contract:
 *
 *   POST /orders              body { customerId, lines: [{ sku, quantity }] }
 *                             → 201, Location: /orders/<id>, the order as an OrderDto
 *   GET  /orders/:id          → 200 OrderDto
 *   POST /orders/:id/cancel   no body or {} → 200 OrderDto
 *
 * - Validate bodies with zod strict objects (an unknown key such as "unitPriceCents" or "role"
 *   is a 422, never silently dropped), within ORDER_LIMITS; invalid → ValidationError whose
 *   issues point (RFC 6901) at each bad part, unknown keys included. The service is not called.
 * - Validate :id with zod too: order ids are UUIDs, and an id that is not one is a 404 (it
 *   cannot name an order) answered without calling the service.
 * - JSON bodies up to 16 KiB (options.bodyLimitBytes): larger is 413, malformed JSON is 400,
 *   content that is not application/json is 415. No body at all (none, or Content-Length: 0,
 *   which many clients send on a bodiless POST) is not a 415: it is a body that fails validation.
 * - A method a route does not support is 405 with an Allow header; OPTIONS answers 204 with it.
 *   Allow lists the methods the route serves, in any order (RFC 9110 fixes none): a GET route
 *   serves HEAD too (express answers it), and OPTIONS may be listed or left out.
 * - Unknown URLs are a 404 problem. Every error goes through ./problem-details.
 * - Do not advertise express (X-Powered-By).
 *
 * Keep the exported names and signatures: the tests import them.
 */
import type { Express } from "express";
import { NotImplementedError } from "#kata";
import type { Order, OrderStatus } from "../order";
import type { OrderUseCases } from "../ports";

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

/** The order DTO for a domain order: no version, ISO instants, a total per line. */
export function toOrderDto(order: Order): OrderDto {
  // TODO: build the DTO field by field (spreading the domain object would leak `version`).
  throw new NotImplementedError("http-api");
}

/**
 * The HTTP adapter of the order use cases: parse and validate, call the service, map the
 * result to a DTO and every error to an RFC 9457 problem.
 */
export function createOrdersApp(orders: OrderUseCases, options: OrdersAppOptions = {}): Express {
  // TODO: express(), an express.Router() mounted at /orders with the three routes, then the
  // notFound handler and problemHandler(options.report ?? console.error) from ./problem-details.
  throw new NotImplementedError("http-api");
}
