import type { ProbeFailureKind, ProbeResult } from "./types";
import { reasonOf, TimeoutError, withTimeout } from "./timing";

// The drivers are imported on first use: a run that needs neither service should not pay for them.

function failure(kind: ProbeFailureKind, reason: string): ProbeResult {
  return { ok: false, kind, reason };
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A network-level failure (refused, timeout, DNS) any client reports alike; undefined for anything else. */
export function classifyNetworkError(error: unknown, timeoutMs: number): ProbeResult | undefined {
  if (error instanceof TimeoutError) return failure("timeout", `no answer within ${timeoutMs} ms`);
  const code = codeOf(error);
  const message = reasonOf(error);
  if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(message))
    return failure("refused", "connection refused, nothing listens there");
  if (code === "ETIMEDOUT" || /timeout|timed out/i.test(message))
    return failure("timeout", `no answer within ${timeoutMs} ms`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return failure("error", `host not found (${message})`);
  return undefined;
}

/** Classifies a Redis error: a password problem, a network problem, or something else. */
export function classifyRedisError(error: unknown, timeoutMs: number): ProbeResult {
  const message = reasonOf(error);
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return failure("auth", `it wants a password (${message})`);
  }
  return classifyNetworkError(error, timeoutMs) ?? failure("error", message);
}

/** Classifies a pg error by SQLSTATE where there is one, so the resolver knows whether another user or database may work. */
export function classifyPostgresError(error: unknown, timeoutMs: number): ProbeResult {
  const code = codeOf(error);
  const message = reasonOf(error);
  if (code === "3D000") return failure("no-database", message);
  if (code === "28000" && /role .* does not exist/i.test(message)) return failure("no-role", message);
  // 28P01: wrong password; 28000 otherwise: pg_hba rejects us; pg itself throws "client
  // password must be a string" when the server asks for a password and none was given.
  if (code === "28P01" || code === "28000" || /password/i.test(message)) {
    return failure("auth", `it wants a password or rejects this user (${message})`);
  }
  return classifyNetworkError(error, timeoutMs) ?? failure("error", message);
}

/** Connects to `url` and sends PING, all within `timeoutMs`. Never rejects. */
export async function probeRedis(url: string, timeoutMs: number): Promise<ProbeResult> {
  const { Redis } = await import("ioredis");
  let lastError: unknown;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // One attempt: a probe that reconnects would turn "down" into "slow".
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // The socket error (ECONNREFUSED...) arrives as an event; connect() only says "closed".
  client.on("error", (error: unknown) => {
    lastError = error;
  });
  try {
    await withTimeout(
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      timeoutMs,
      `PING ${url}`,
    );
    return { ok: true };
  } catch (error) {
    const classified = classifyRedisError(error, timeoutMs);
    // Prefer the socket's own error when connect() only reports "Connection is closed".
    if (!classified.ok && classified.kind === "error" && lastError !== undefined)
      return classifyRedisError(lastError, timeoutMs);
    return classified;
  } finally {
    client.disconnect();
  }
}

/** Connects to `url` and runs SELECT 1, all within `timeoutMs`. Never rejects. */
export async function probePostgres(url: string, timeoutMs: number): Promise<ProbeResult> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // A server that goes away after the probe must not crash the checker with an unhandled 'error'.
  client.on("error", () => {});
  try {
    await withTimeout(
      (async () => {
        await client.connect();
        await client.query("SELECT 1");
      })(),
      timeoutMs,
      "connecting",
    );
    return { ok: true };
  } catch (error) {
    return classifyPostgresError(error, timeoutMs);
  } finally {
    // end() waits for the server's goodbye; a broken server must not hold the probe.
    await withTimeout(client.end(), 500, "closing").catch(() => {});
  }
}
