// Reference solution for the `saga` kata, state side: one row per saga, every transition a
// compare-and-set on its version.

import type pg from "pg";
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

interface SagaRow {
  id: string;
  order_data: OrderToFulfil;
  status: SagaStatus;
  done: SagaStep[];
  results: SagaResults;
  failed_step: SagaStep | null;
  version: number;
}

const COLUMNS = "id, order_data, status, done, results, failed_step, version";

function toState(row: SagaRow): SagaState {
  return {
    sagaId: row.id,
    order: row.order_data,
    status: row.status,
    done: row.done,
    results: row.results,
    ...(row.failed_step === null ? {} : { failedStep: row.failed_step }),
    version: row.version,
  };
}

export class SagaStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates the saga table(s) unless they exist. */
  async migrate(): Promise<void> {
    await this.pool.query(`
      CREATE TABLE IF NOT EXISTS order_sagas (
        id          text PRIMARY KEY,
        order_data  jsonb NOT NULL,
        status      text NOT NULL CHECK (status IN ('running', 'compensating', 'completed', 'compensated')),
        done        jsonb NOT NULL DEFAULT '[]',
        results     jsonb NOT NULL DEFAULT '{}',
        failed_step text,
        version     integer NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      -- resume() reads the unfinished ones; finished sagas pile up and must not slow it down.
      CREATE INDEX IF NOT EXISTS order_sagas_unfinished ON order_sagas (created_at)
        WHERE status IN ('running', 'compensating');
    `);
  }

  /** A new running saga, or the stored one if the id is taken. */
  async create(sagaId: string, order: OrderToFulfil): Promise<SagaState> {
    await this.pool.query(
      "INSERT INTO order_sagas (id, order_data, status) VALUES ($1, $2, 'running') ON CONFLICT (id) DO NOTHING",
      [sagaId, JSON.stringify(order)],
    );
    return (await this.load(sagaId))!;
  }

  async load(sagaId: string): Promise<SagaState | undefined> {
    const { rows } = await this.pool.query<SagaRow>(`SELECT ${COLUMNS} FROM order_sagas WHERE id = $1`, [sagaId]);
    return rows[0] && toState(rows[0]);
  }

  /** Every saga still running or compensating, oldest first. */
  async unfinished(): Promise<SagaState[]> {
    const { rows } = await this.pool.query<SagaRow>(
      `SELECT ${COLUMNS} FROM order_sagas WHERE status IN ('running', 'compensating') ORDER BY created_at, id`,
    );
    return rows.map(toState);
  }

  /** Applies `change` if the saga is still at `current.version`; the new state, or undefined if another writer won. */
  async update(current: SagaState, change: SagaChange): Promise<SagaState | undefined> {
    const next = { ...current, ...change };
    const { rows } = await this.pool.query<SagaRow>(
      `UPDATE order_sagas
          SET status = $3, done = $4, results = $5, failed_step = $6, version = version + 1
        WHERE id = $1 AND version = $2
    RETURNING ${COLUMNS}`,
      [
        current.sagaId,
        current.version,
        next.status,
        JSON.stringify(next.done),
        JSON.stringify(next.results),
        next.failedStep ?? null,
      ],
    );
    return rows[0] && toState(rows[0]);
  }
}
