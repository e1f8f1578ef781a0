import { mkdtemp, realpath } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  describeExit,
  lastLines,
  type ManagedChild,
  removeTempDir,
  runCommand,
  spawnManaged,
  trackTempDir,
} from "./child";
import { LOOPBACK, freePort } from "./ports";
import { probePostgres } from "./probe";
import { pollUntil, reasonOf } from "./timing";
import type { PostgresTools, ProbeResult, ServiceDeps, StartedServer } from "./types";

export const POSTGRES_DEFAULT_HOST = LOOPBACK;
export const POSTGRES_DEFAULT_PORT = 5432;
export const POSTGRES_IMAGE = "postgres:16-alpine";

const INITDB_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export interface LocalCandidate {
  user: string;
  database: string;
  url: string;
}

/**
 * The user/database pairs worth trying on the default port, most likely first: the
 * conventional superuser `postgres`, then the login user (Homebrew and Postgres.app make
 * it the superuser), then `root`; database `test` (the course's), then `postgres`.
 */
export function localPostgresCandidates(
  whoami: string,
  host = POSTGRES_DEFAULT_HOST,
  port = POSTGRES_DEFAULT_PORT,
): LocalCandidate[] {
  const users = [...new Set(["postgres", whoami, "root"].filter((u) => u.length > 0))];
  return users.flatMap((user) =>
    ["test", "postgres"].map((database) => ({
      user,
      database,
      url: `postgres://${encodeURIComponent(user)}@${host}:${port}/${database}`,
    })),
  );
}

export type LocalPostgresResult =
  | { ok: true; candidate: LocalCandidate }
  | {
      ok: false;
      reason: string;
      /** true when something listens there (so it is not "nothing running") */ listening: boolean;
    };

/**
 * Finds the first user/database that a server on the default port accepts. Stops at once when
 * nothing listens or nothing answers; moves to the next database or user on the errors that
 * say another one may work.
 */
export async function findLocalPostgres(
  probe: ServiceDeps["probePostgres"],
  whoami: string,
  timeoutMs: number,
): Promise<LocalPostgresResult> {
  const refusals: string[] = [];
  let skipUser: string | undefined;
  for (const candidate of localPostgresCandidates(whoami)) {
    if (candidate.user === skipUser) continue;
    const result: ProbeResult = await probe(candidate.url, timeoutMs);
    if (result.ok) return { ok: true, candidate };
    if (result.kind === "refused" || result.kind === "timeout")
      return { ok: false, reason: result.reason, listening: result.kind === "timeout" };
    refusals.push(`${candidate.user}@${candidate.database}: ${result.reason}`);
    // A missing database is worth the next database; anything else is about the user.
    if (result.kind !== "no-database") skipUser = candidate.user;
  }
  return {
    ok: false,
    reason: `it answers, but refused every user and database tried (${refusals.join("; ")})`,
    listening: true,
  };
}

export type PostgresToolsResult = { found: true; tools: PostgresTools } | { found: false; reason: string };

/**
 * initdb on PATH or in a versioned install folder, and the postgres server next to it (initdb
 * itself insists on its sibling, so both come from one installation). A symlinked initdb
 * (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) is followed to that folder.
 */
export async function locatePostgresTools(
  deps: Pick<ServiceDeps, "findBinary" | "postgresBinDirs">,
  resolveLink: (file: string) => Promise<string> = realpath,
): Promise<PostgresToolsResult> {
  const versioned = await deps.postgresBinDirs();
  const found = (await deps.findBinary("initdb")) ?? (await deps.findBinary("initdb", versioned));
  const initdb = found === undefined ? undefined : await resolveLink(found).catch(() => found);
  if (initdb === undefined) {
    return {
      found: false,
      reason: `no initdb on PATH${versioned.length > 0 ? ` or in ${versioned.join(", ")}` : " or in the usual install folders"}`,
    };
  }
  const server = await deps.findBinary("postgres", [path.dirname(initdb)]);
  if (server === undefined || path.dirname(server) !== path.dirname(initdb)) {
    return { found: false, reason: `${initdb} has no postgres server binary next to it` };
  }
  return { found: true, tools: { initdb, postgres: server } };
}

/** The command line of a throwaway server: loopback TCP only, no unix socket, durability off (it is test data). */
export function privatePostgresArgs(dataDir: string, port: number): string[] {
  return [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    `listen_addresses=${LOOPBACK}`,
    "-c",
    "unix_socket_directories=",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
  ];
}

export interface PrivatePostgres extends StartedServer {
  readonly pid: number | undefined;
  /** The temp dir holding the cluster; stop() removes it. */
  readonly dir: string;
}

/**
 * Creates a cluster with trust auth in a temp dir and runs it on a free loopback port until
 * it accepts `postgres`. Postgres refuses to run as root, so the caller checks that first.
 */
export async function startPrivatePostgres(
  tools: PostgresTools,
  probe: ServiceDeps["probePostgres"] = probePostgres,
): Promise<PrivatePostgres> {
  if (process.getuid?.() === 0) throw new Error("Postgres refuses to run as root");
  const dir = await mkdtemp(path.join(os.tmpdir(), "kata-pg-"));
  trackTempDir(dir);
  const dataDir = path.join(dir, "data");
  try {
    const init = await runCommand(
      tools.initdb,
      ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
      INITDB_TIMEOUT_MS,
      { cwd: dir },
    );
    if (init.timedOut || init.code !== 0) {
      const why = init.timedOut ? `took longer than ${INITDB_TIMEOUT_MS / 1000} s` : describeExit(init);
      throw new Error(`initdb ${why}: ${lastLines(init.output)}`);
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return await runServer(tools.postgres, dir, dataDir, probe);
      } catch (error) {
        lastError = error;
        if (!/in use/i.test(reasonOf(error))) break;
      }
    }
    throw lastError;
  } catch (error) {
    await removeTempDir(dir).catch(() => {});
    throw error;
  }
}

async function runServer(
  binary: string,
  dir: string,
  dataDir: string,
  probe: ServiceDeps["probePostgres"],
): Promise<PrivatePostgres> {
  const port = await freePort();
  const url = `postgres://postgres@${LOOPBACK}:${port}/postgres`;
  const child: ManagedChild = spawnManaged(binary, privatePostgresArgs(dataDir, port), { cwd: dir, cleanupDir: dir });
  try {
    await pollUntil(async () => ((await probe(url, 1_000)).ok ? true : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      what: `postgres on port ${port} accepting connections`,
      giveUp: () => (child.hasExited() ? "exited" : undefined),
    });
  } catch (error) {
    const status = child.hasExited() ? describeExit(await child.exited) : reasonOf(error);
    // SIGINT is Postgres's "fast shutdown": roll back sessions, exit without waiting for clients.
    await child.stop("SIGINT", STOP_GRACE_MS);
    throw new Error(`postgres ${status}: ${lastLines(child.output())}`);
  }
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await child.stop("SIGINT", STOP_GRACE_MS);
      await removeTempDir(dir).catch(() => {});
    })());
  return { url, address: `${LOOPBACK}:${port}`, pid: child.pid, dir, stop };
}
