// Reference solution of the refresh-rotation kata: hashed tokens, rotation, reuse detection.

import { createHash, randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import type { Clock } from "./clock";

export interface ReuseEvent {
  readonly userId: string;
  readonly familyId: string;
}

export interface RefreshTokenOptions {
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly idleTtlMs?: number;
  readonly absoluteTtlMs?: number;
  readonly onReuse?: (event: ReuseEvent) => void;
}

export interface IssuedRefreshToken {
  readonly token: string;
  readonly userId: string;
  readonly familyId: string;
  readonly expiresAt: Date;
}

export type RefreshFailure = "invalid" | "expired" | "reused" | "revoked";

export class RefreshTokenError extends Error {
  readonly code = "ERR_REFRESH_TOKEN";

  constructor(readonly reason: RefreshFailure) {
    super(`refresh token refused: ${reason}`);
    this.name = "RefreshTokenError";
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
const TOKEN_BYTES = 32;
// 32 bytes in base64url without padding: exactly 43 characters.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

// A plain SHA-256 is right here, unlike for passwords: the token has 256 bits of entropy,
// so there is nothing to guess and no reason to make each lookup slow.
const hashOf = (token: string) => createHash("sha256").update(token).digest();

interface Refusal {
  readonly failure: RefreshFailure;
  readonly reuse?: ReuseEvent | undefined;
}

interface TokenRow {
  family_id: string;
  user_id: string;
  token_expires_at: Date;
  used_at: Date | null;
  family_expires_at: Date;
  revoked_at: Date | null;
}

/** Refresh tokens stored as hashes, rotated on every use, with reuse detection per family. */
export class RefreshTokenService {
  readonly #pool: pg.Pool;
  readonly #clock: Clock;
  readonly #idleTtlMs: number;
  readonly #absoluteTtlMs: number;
  readonly #onReuse: ((event: ReuseEvent) => void) | undefined;

  constructor(options: RefreshTokenOptions) {
    this.#pool = options.pool;
    this.#clock = options.clock;
    this.#idleTtlMs = options.idleTtlMs ?? 14 * DAY_MS;
    this.#absoluteTtlMs = options.absoluteTtlMs ?? 30 * DAY_MS;
    this.#onReuse = options.onReuse;
  }

  /** Starts a family (one login) and returns its first token. */
  async login(userId: string): Promise<IssuedRefreshToken> {
    const now = this.#clock.now();
    const familyId = randomUUID();
    const familyEnd = new Date(now + this.#absoluteTtlMs);
    return this.#transaction(async (client) => {
      await client.query("INSERT INTO refresh_families (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)", [
        familyId,
        userId,
        new Date(now),
        familyEnd,
      ]);
      return this.#issue(client, { familyId, userId, familyEnd, now });
    });
  }

  /** Exchanges a token for its successor, or rejects with RefreshTokenError. */
  async rotate(token: string): Promise<IssuedRefreshToken> {
    // Not even shaped like one of ours: no need to ask the database.
    if (!TOKEN_SHAPE.test(token)) throw new RefreshTokenError("invalid");
    const now = this.#clock.now();
    const hash = hashOf(token);
    const outcome = await this.#transaction(async (client): Promise<IssuedRefreshToken | Refusal> => {
      // FOR UPDATE OF t: concurrent rotations of this token queue here, one at a time, and
      // each one sees what the previous one committed. That is what makes "exactly one wins".
      const { rows } = await client.query<TokenRow>(
        `SELECT t.family_id, f.user_id, t.expires_at AS token_expires_at, t.used_at,
                f.expires_at AS family_expires_at, f.revoked_at
           FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
          WHERE t.token_hash = $1
            FOR UPDATE OF t`,
        [hash],
      );
      const row = rows[0];
      if (!row) return { failure: "invalid" };
      if (row.revoked_at !== null) return { failure: "revoked" };
      if (row.used_at !== null) {
        // Committed before the rejection: the thief's token dies with the user's.
        const revoked = await this.#revokeFamily(client, row.family_id, "reuse", now);
        return { failure: "reused", reuse: revoked ? { userId: row.user_id, familyId: row.family_id } : undefined };
      }
      if (now >= row.token_expires_at.getTime() || now >= row.family_expires_at.getTime()) {
        return { failure: "expired" };
      }
      await client.query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", [hash, new Date(now)]);
      const family = { familyId: row.family_id, userId: row.user_id, familyEnd: row.family_expires_at, now };
      return this.#issue(client, family);
    });
    if ("failure" in outcome) {
      // After COMMIT: an alert must never report a revocation that was rolled back.
      if (outcome.reuse) this.#onReuse?.(outcome.reuse);
      throw new RefreshTokenError(outcome.failure);
    }
    return outcome;
  }

  /** Revokes the family of this token. */
  async logout(token: string): Promise<void> {
    await this.#pool.query(
      `UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'logout'
        WHERE revoked_at IS NULL AND id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
      [hashOf(token), new Date(this.#clock.now())],
    );
  }

  /** Revokes every live family of the user. */
  async logoutEverywhere(userId: string): Promise<void> {
    await this.#pool.query(
      `UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'logout-everywhere'
        WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId, new Date(this.#clock.now())],
    );
  }

  /** True only for the call that actually revoked it, so onReuse fires once per family. */
  async #revokeFamily(client: pg.PoolClient, familyId: string, reason: string, now: number): Promise<boolean> {
    const { rowCount } = await client.query(
      "UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
      [familyId, new Date(now), reason],
    );
    return rowCount === 1;
  }

  async #issue(
    client: pg.PoolClient,
    family: { familyId: string; userId: string; familyEnd: Date; now: number },
  ): Promise<IssuedRefreshToken> {
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const expiresAt = new Date(Math.min(family.now + this.#idleTtlMs, family.familyEnd.getTime()));
    await client.query(
      "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
      [hashOf(token), family.familyId, new Date(family.now), expiresAt],
    );
    return { token, userId: family.userId, familyId: family.familyId, expiresAt };
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    // A connection whose ROLLBACK failed is in an unknown state: destroy it, never reuse it.
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
