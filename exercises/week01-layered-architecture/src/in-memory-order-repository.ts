/**
 * Kata repositories (1 of 2): the OrderRepository port (./ports) on a plain Map.
 *
 * The in-memory adapter is what unit tests and demos run on, so it must keep the very same
 * contract as the Postgres adapter, or code that passes against it breaks in production.
 * tests/repositories.test.ts runs one contract suite against both adapters. In short:
 * - findById: a copy of the stored order, or undefined.
 * - save: version 0 inserts (an existing id is a ConcurrencyError); version n replaces the
 *   stored order only if it is still at version n (otherwise ConcurrencyError, nothing
 *   changes). It returns the stored order at version n + 1.
 * - Copies in and out: mutating the object you passed or got back never changes what is
 *   stored, just as with a database.
 * - Saves from the same version, started together (the tests start five): exactly one wins,
 *   every other one is rejected with ConcurrencyError. Reading the stored version, awaiting
 *   anything, then writing lets them all pass the check first.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { Order } from "./order";
import type { OrderRepository } from "./ports";

/** The OrderRepository port on a Map: for tests, demos and local runs. */
export class InMemoryOrderRepository implements OrderRepository {
  /** The stored order with this id, as a copy, or undefined. */
  async findById(id: string): Promise<Order | undefined> {
    // TODO: look it up and hand out a deep copy (Dates and lines too).
    throw new NotImplementedError("repositories");
  }

  /** Inserts (version 0) or replaces (version n) the order if its version is current. */
  async save(order: Order): Promise<Order> {
    // TODO: compare versions and write without an await in between, so that no other save
    // can interleave; throw ConcurrencyError when the version is not current.
    throw new NotImplementedError("repositories");
  }
}
