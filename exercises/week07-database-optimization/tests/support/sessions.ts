/**
 * What the week's tests share about Postgres sessions: pools whose plans are deterministic,
 * pools that record every statement the code under test sends, and waiting (bounded) until
 * sessions are blocked on a lock.
 */
import type pg from "pg";
import pgModule from "pg";
import type { PostgresFixture } from "#fixtures/postgres";

/**
 * Pool settings for sessions whose plans a test reads: the file's schema, and no parallel
 * workers (a parallel plan depends on how busy the machine is; a serial one does not).
 */
export function deterministicPlans(postgres: PostgresFixture, extra = ""): pg.PoolConfig {
  return { options: `-c search_path=${postgres.schema} -c max_parallel_workers_per_gather=0 ${extra}`.trim() };
}

/** A statement as the code under test sent it. */
export interface LoggedQuery {
  readonly text: string;
  readonly values: readonly unknown[];
}

export interface RecordingPool {
  readonly pool: pg.Pool;
  /** Every statement sent through the pool (pool.query and checked-out clients alike), in order. */
  readonly log: LoggedQuery[];
  /** Empties the log and answers what it held. */
  take(): LoggedQuery[];
}

function logged(args: readonly unknown[]): LoggedQuery | undefined {
  const [first, second] = args;
  if (typeof first === "string") return { text: first, values: Array.isArray(second) ? second : [] };
  if (first && typeof first === "object" && typeof (first as { text?: unknown }).text === "string") {
    const config = first as { text: string; values?: unknown };
    return {
      text: config.text,
      values: Array.isArray(config.values) ? config.values : Array.isArray(second) ? second : [],
    };
  }
  return undefined;
}

/**
 * A pool whose every statement is recorded: the query counter of the n-plus-one kata and the
 * source of the statements whose plans the other katas check. It wraps the client class, so
 * `pool.query`, `pool.connect()` + `client.query` and transactions are all seen.
 */
export function recordingPool(postgres: PostgresFixture, config: pg.PoolConfig = {}): RecordingPool {
  const log: LoggedQuery[] = [];
  class RecordingClient extends pgModule.Client {
    constructor(clientConfig?: pg.ClientConfig) {
      super(clientConfig);
      const send = this.query.bind(this) as (...args: unknown[]) => unknown;
      this.query = ((...args: unknown[]) => {
        const entry = logged(args);
        if (entry) log.push(entry);
        return send(...args);
      }) as pg.Client["query"];
    }
  }
  const pool = postgres.pool({ ...config, Client: RecordingClient as unknown as new () => pg.ClientBase });
  return { pool, log, take: () => log.splice(0) };
}

/**
 * Waits until `count` sessions named `applicationName` are waiting for a lock, and answers
 * whether they got there within `timeoutMs` (or before `signal` aborts). It polls
 * pg_stat_activity: a lock wait is a state of the server, there is no event to await.
 */
export async function lockWaiters(
  db: pg.Pool,
  applicationName: string,
  count: number,
  { timeoutMs = 10_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [applicationName],
    );
    if (rows[0]!.n >= count) return true;
    if (Date.now() > deadline || signal?.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An application_name for this file's sessions in `role`, unique to the file (its schema's random suffix). */
export function applicationName(postgres: PostgresFixture, role: string): string {
  return `w7-${role}-${postgres.schema.slice(-8)}`;
}

/**
 * A meeting point for concurrent transactions: the first `parties` callers wait until all of
 * them have arrived, so all of them have read before any of them writes. It also opens when
 * a session of `applicationName` waits for a lock (a transaction that locks what it reads
 * keeps the others from arriving: it must not wait for them), and callers after the first
 * `parties` (a retry) pass at once.
 */
export function rendezvous(
  db: pg.Pool,
  applicationName: string,
  parties: number,
): { meet: () => Promise<void>; arrivals: () => number } {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const meet = async () => {
    if (++arrived >= parties) open();
    const stop = new AbortController();
    const blocked = lockWaiters(db, applicationName, 1, { signal: stop.signal }).then((found) => {
      if (found) open();
    });
    await opened;
    stop.abort();
    await blocked;
  };
  return { meet, arrivals: () => arrived };
}
