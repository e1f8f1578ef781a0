import { ConcurrencyError } from "./errors";
import type { Order } from "./order";
import type { OrderRepository } from "./ports";

/**
 * The OrderRepository port on a Map: for tests, demos and local runs. It keeps the same
 * contract as the Postgres adapter, copies included, so code tested against it does not
 * change behaviour in production.
 */
export class InMemoryOrderRepository implements OrderRepository {
  readonly #orders = new Map<string, Order>();

  /** The stored order with this id, as a copy, or undefined. */
  async findById(id: string): Promise<Order | undefined> {
    const order = this.#orders.get(id);
    return order && copyOf(order);
  }

  /** Inserts (version 0) or replaces (version n) the order if its version is current. */
  async save(order: Order): Promise<Order> {
    // The check and the write run in one synchronous stretch with no await in between, so no
    // other save can interleave: on one event loop this is the whole of optimistic locking.
    const current = this.#orders.get(order.id);
    const isCurrent =
      order.version === 0 ? current === undefined : current !== undefined && current.version === order.version;
    if (!isCurrent) throw new ConcurrencyError(order.id, order.version);
    // Copy on the way in and on the way out: a caller who mutates its object later (or the one
    // it got back) must not change what is stored, exactly as with a database.
    const stored = { ...copyOf(order), version: order.version + 1 };
    this.#orders.set(order.id, stored);
    return copyOf(stored);
  }
}

/** A deep copy of the fields an order has, and only those (like a row would hold). */
function copyOf(order: Order): Order {
  return {
    id: order.id,
    customerId: order.customerId,
    status: order.status,
    lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPriceCents: line.unitPriceCents })),
    totalCents: order.totalCents,
    createdAt: new Date(order.createdAt.getTime()),
    updatedAt: new Date(order.updatedAt.getTime()),
    version: order.version,
  };
}
