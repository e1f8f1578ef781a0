// The table of the `skip-locked-queue` kata. Given and complete.
//
// A job is 'queued' until a worker commits its outcome: 'done', or 'failed' once it has
// failed maxAttempts times. There is no 'running' status: a running job is a queued row that
// a worker's open transaction has locked, so a worker that dies releases it by dying.
//
// jobs_claim_idx holds only the queued jobs (finished ones pile up by the million in a real
// queue and must not slow the claim down), sorted the way workers take them: highest
// priority first, then oldest, then lowest id.

import type pg from "pg";

export const JOBS_TABLE_SQL = `
CREATE TABLE jobs (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  payload     jsonb       NOT NULL,
  priority    integer     NOT NULL DEFAULT 0,
  status      text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'failed')),
  attempts    integer     NOT NULL DEFAULT 0,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, created_at, id) WHERE status = 'queued';
`;

/** Creates the table in the pool's schema. */
export async function createJobs(pool: pg.Pool): Promise<void> {
  await pool.query(JOBS_TABLE_SQL);
}
