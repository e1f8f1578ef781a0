// Kata: saga (1 of 2: the saga's state in Postgres; the orchestrator is in order-saga.ts)
//
// An orchestrator that keeps its progress in memory forgets every saga it was running when
// it crashes: stock stays reserved, cards stay charged. Keep each saga's state in Postgres
// and update it after every answer, so any orchestrator (a restarted one, another instance)
// can pick the saga up where it stopped:
// - migrate() creates your table(s) if they do not exist (the tests call it once per file,
//   and again from a second orchestrator: it must be idempotent);
// - create() inserts a new saga (running, nothing done yet) or, if one with that id exists,
//   answers it unchanged: starting a saga twice is starting it once;
// - update() writes a transition only if the saga is still at the version it was read at
//   (optimistic concurrency: `... WHERE id = $1 AND version = $2`), so two orchestrators
//   driving one saga never overwrite each other's progress; undefined when it lost.
//
// Tests: tests/saga.test.ts (`npm run check week9 saga`), through order-saga.ts.
// Keep the exported names and signatures: order-saga.ts uses them.

import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { OrderToFulfil, SagaResults, SagaStatus, SagaStep } from "./saga-types";

export interface SagaState {
  readonly sagaId: string;
  readonly order: OrderToFulfil;
  readonly status: SagaStatus;
  /**
   * The forward steps that succeeded and are not undone, in order. Going forward it grows
   * (reserve-stock, charge-payment, ...); compensating, it shrinks from the end.
   */
  readonly done: readonly SagaStep[];
  readonly results: SagaResults;
  readonly failedStep?: SagaStep;
  /** Bumped by every update. */
  readonly version: number;
}

export type SagaChange = Partial<Pick<SagaState, "status" | "done" | "results" | "failedStep">>;

export class SagaStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates the saga table(s) unless they exist. */
  async migrate(): Promise<void> {
    // TODO: CREATE TABLE IF NOT EXISTS ... (id, order as jsonb, status, done, results, failed step, version).
    throw new NotImplementedError("saga");
  }

  /** A new running saga, or the stored one if the id is taken. */
  async create(sagaId: string, order: OrderToFulfil): Promise<SagaState> {
    // TODO: INSERT ... ON CONFLICT (id) DO NOTHING, then read it back.
    throw new NotImplementedError("saga");
  }

  async load(sagaId: string): Promise<SagaState | undefined> {
    // TODO: SELECT and map the row.
    throw new NotImplementedError("saga");
  }

  /** Every saga still running or compensating, oldest first. */
  async unfinished(): Promise<SagaState[]> {
    // TODO: SELECT ... WHERE status IN ('running', 'compensating').
    throw new NotImplementedError("saga");
  }

  /** Applies `change` if the saga is still at `current.version`; the new state, or undefined if another writer won. */
  async update(current: SagaState, change: SagaChange): Promise<SagaState | undefined> {
    // TODO: UPDATE ... SET ..., version = version + 1 WHERE id = $1 AND version = $2 RETURNING *.
    throw new NotImplementedError("saga");
  }
}
