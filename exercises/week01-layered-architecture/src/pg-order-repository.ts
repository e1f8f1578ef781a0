/**
 * Kata repositories (2 of 2): the OrderRepository port (./ports) on Postgres, through a pg Pool.
 *
 * The test hands you a Pool whose sessions already use a schema of their own (search_path),
 * calls migrate() once, then runs the same contract suite as for the in-memory adapter
 * (tests/repositories.test.ts), plus the checks only a database can fail
 * (tests/repositories-postgres.test.ts):
 * - migrate() creates your tables (unqualified names: the search_path picks the schema) and
 *   can run again. Store money as bigint cents and instants as timestamptz.
 * - Every value travels as a parameter ($1, $2, …); no value is ever pasted into SQL text.
 * - save is one transaction on one client from pool.connect(): the order row and its lines
 *   are written together or not at all.
 * - Optimistic concurrency: the version check is part of the write, an UPDATE … WHERE id = $1
 *   AND version = $n. Checking the version with a SELECT and then updating by id alone loses
 *   updates: several saves pass the check before any commits (the tests start five at once).
 *   A lost race reaches you in one of three forms, and each is a ConcurrencyError: the write
 *   matches no row; 23505 unique_violation (an INSERT of an id that exists, unless ON CONFLICT
 *   DO NOTHING turned it into "no row"); 40001 serialization_failure (what a concurrent update
 *   gives when the server runs transactions at REPEATABLE READ or SERIALIZABLE, which the
 *   tests also do). Any other database error propagates as it is.
 * - Every failure, a lost race included, ends with ROLLBACK before the client goes back to
 *   the pool: a client released inside an open transaction hands that transaction to the
 *   next save on its connection. release() in a finally, on every path; if the ROLLBACK itself
 *   failed, release(error) so that the pool destroys the connection instead of reusing it.
 * - Read back exactly what was written: pg returns bigint columns as strings, and lines
 *   must come back in their original order.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import type { Pool } from "pg";
import { NotImplementedError } from "#kata";
import type { Order } from "./order";
import type { OrderRepository } from "./ports";

/** The OrderRepository port on Postgres through a pg Pool, with optimistic concurrency. */
export class PgOrderRepository implements OrderRepository {
  constructor(private readonly pool: Pool) {}

  /** Creates the tables if they are missing. Safe to run again. */
  async migrate(): Promise<void> {
    // TODO: CREATE TABLE IF NOT EXISTS for the orders (and their lines).
    throw new NotImplementedError("repositories");
  }

  /** The stored order with this id, or undefined. */
  async findById(id: string): Promise<Order | undefined> {
    // TODO: one parameterized query (a join reads the order and its lines from one snapshot).
    throw new NotImplementedError("repositories");
  }

  /** Inserts (version 0) or replaces (version n) the order and its lines in one transaction. */
  async save(order: Order): Promise<Order> {
    // TODO: this.pool.connect(), BEGIN, INSERT … ON CONFLICT DO NOTHING or UPDATE … WHERE
    // version = $n, check rowCount, write the lines, COMMIT; ROLLBACK on error (and map
    // 23505/40001 to ConcurrencyError); release() in a finally, release(error) if ROLLBACK failed.
    throw new NotImplementedError("repositories");
  }
}
