/**
 * Kata order-service: the service layer of an order system.
 *
 * The service holds the business rules and nothing else. It talks to the world only through
 * the ports in ./ports (a repository, a catalogue, a clock, an id generator), which the caller
 * injects. It must not import express, pg or anything HTTP- or SQL-shaped: that is what lets
 * the same rules run behind HTTP, a queue consumer or a test, and what tests/order-service.test.ts
 * checks (behaviour first, then the module's import graph).
 *
 * What to build:
 * - placeOrder: check the command and collect EVERY problem as a ValidationIssue with a JSON
 *   Pointer ("/customerId", "/lines", "/lines/2/quantity", "/lines/2/sku"):
 *     customerId: 1..ORDER_LIMITS.maxIdLength characters, not all blank;
 *     lines: 1..ORDER_LIMITS.maxLines of them; each sku 1..maxIdLength characters, not blank,
 *     not repeated from an earlier line; each quantity a whole number 1..maxQuantity; a line
 *     that is not an object at all (null, a string: an untyped caller's JSON) is one issue
 *     at "/lines/<i>", never a TypeError.
 *   If any, throw one ValidationError with all of them, before asking the catalogue anything.
 *   Then price every line from the catalogue in ONE call; a sku it does not sell is an issue at
 *   "/lines/<i>/sku". The total is the sum of quantity × unitPriceCents in integer cents; a
 *   total that is not a safe integer is an issue at "/lines". Save the new order as "pending",
 *   version 0, createdAt = updatedAt = the clock's now, id from newId(); return what save returns.
 * - getOrder: the order, or NotFoundError.
 * - cancelOrder (pending → cancelled), payOrder (pending → paid), shipOrder (paid → shipped):
 *   any other move is an InvalidTransitionError(id, from, to). Save the changed copy with the
 *   version you read (updatedAt = now) and let a ConcurrencyError from the repository through.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Order } from "./order";
import type { Catalog, Clock, OrderRepository, OrderUseCases, PlaceOrderCommand } from "./ports";

/** What the service needs from the outside world: ports only, no framework, no driver. */
export interface OrderServiceDeps {
  readonly repository: OrderRepository;
  readonly catalog: Catalog;
  readonly clock: Clock;
  /** A fresh, unique order id (crypto.randomUUID in production). */
  readonly newId: () => string;
}

/** The order use cases: business rules over injected ports. */
export class OrderService implements OrderUseCases {
  constructor(private readonly deps: OrderServiceDeps) {}

  /** Validates the command, prices it from the catalogue and stores a new pending order. */
  async placeOrder(command: PlaceOrderCommand): Promise<Order> {
    // TODO: validate the shape (all issues at once), price from this.deps.catalog in one call,
    // total in integer cents, then this.deps.repository.save(...) a version-0 pending order.
    throw new NotImplementedError("order-service");
  }

  /** The order with this id; NotFoundError when there is none. */
  async getOrder(id: string): Promise<Order> {
    // TODO: find it in the repository or throw NotFoundError.
    throw new NotImplementedError("order-service");
  }

  /** pending → cancelled. */
  async cancelOrder(id: string): Promise<Order> {
    // TODO: one transition table for all three moves keeps the life cycle in one place.
    throw new NotImplementedError("order-service");
  }

  /** pending → paid. */
  async payOrder(id: string): Promise<Order> {
    // TODO: pending → paid, anything else is an InvalidTransitionError.
    throw new NotImplementedError("order-service");
  }

  /** paid → shipped. */
  async shipOrder(id: string): Promise<Order> {
    // TODO: paid → shipped, anything else is an InvalidTransitionError.
    throw new NotImplementedError("order-service");
  }
}
