// Kata: refresh-rotation
//
// Access tokens live minutes; the refresh token that renews them lives weeks, so it is the
// token worth stealing. Rotation makes a stolen one loud: every refresh hands out a new token
// and retires the old one, so when the thief and the user both use the same token, the second
// use is proof of theft, and the whole family (the login it came from) is revoked. Build
// RefreshTokenService over Postgres (tables in refresh-schema.ts):
// - login(userId): a new family and its first token: 32 bytes from the CSPRNG, base64url.
//   Store only SHA-256(token); look tokens up by that hash.
// - rotate(token): the token's successor, in the same family. What a token presented to
//   rotate() is, checked in this order (the first that applies wins):
//     unknown (or not even shaped like a token)        -> RefreshTokenError "invalid"
//     its family is revoked                            -> "revoked"
//     it was already rotated (used_at is set)          -> "reused": revoke the family, call
//                                                         onReuse once for that family
//     now >= its expires_at, or its family's expires_at -> "expired"
//   A new token expires idleTtlMs after it is issued, but never after the family's end
//   (login time + absoluteTtlMs).
// - Concurrency, chosen here on purpose: no grace window. When several rotations of the same
//   token race, exactly one wins; every other one is reuse (or, once the family is revoked,
//   "revoked"), and the family dies, the winner's new token with it. Row locks or a
//   conditional UPDATE make "exactly one" true across connections; a SELECT followed by an
//   UPDATE does not.
// - logout(token) revokes the token's family (an unknown token: nothing to do);
//   logoutEverywhere(userId) revokes every live family of the user.
// Every time comes from the injected clock, never from the database's now().
//
// Tests: tests/refresh-rotation.test.ts (npm run check week8 refresh-rotation). Needs Postgres.
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

export interface ReuseEvent {
  readonly userId: string;
  readonly familyId: string;
}

export interface RefreshTokenOptions {
  /** Runs the queries; the service may take several of its connections at once. */
  readonly pool: pg.Pool;
  readonly clock: Clock;
  /** How long a token stays valid if it is not used. Default 14 days. */
  readonly idleTtlMs?: number;
  /** How long a family lives from login, however often it rotates. Default 30 days. */
  readonly absoluteTtlMs?: number;
  /** Called once per family when reuse revokes it: alert the user, log a security event. */
  readonly onReuse?: (event: ReuseEvent) => void;
}

export interface IssuedRefreshToken {
  /** The secret the client keeps; it is never stored server-side. */
  readonly token: string;
  readonly userId: string;
  readonly familyId: string;
  readonly expiresAt: Date;
}

export type RefreshFailure = "invalid" | "expired" | "reused" | "revoked";

/** rotate() refused the token. Send the client back to the login page whatever the reason. */
export class RefreshTokenError extends Error {
  readonly code = "ERR_REFRESH_TOKEN";

  constructor(readonly reason: RefreshFailure) {
    super(`refresh token refused: ${reason}`);
    this.name = "RefreshTokenError";
  }
}

/** Refresh tokens stored as hashes, rotated on every use, with reuse detection per family. */
export class RefreshTokenService {
  constructor(options: RefreshTokenOptions) {
    // TODO: keep the options, with the defaults filled in.
    void options;
  }

  /** Starts a family (one login) and returns its first token. */
  async login(userId: string): Promise<IssuedRefreshToken> {
    // TODO: INSERT the family and the hash of a fresh random token, in one transaction.
    throw new NotImplementedError("refresh-rotation");
  }

  /** Exchanges a token for its successor, or rejects with RefreshTokenError. */
  async rotate(token: string): Promise<IssuedRefreshToken> {
    // TODO: one transaction: lock the token's row, decide in the order above, mark it used,
    // insert the successor. On reuse, revoke the family and commit that before rejecting.
    throw new NotImplementedError("refresh-rotation");
  }

  /** Revokes the family of this token. */
  async logout(token: string): Promise<void> {
    // TODO: revoke the family the token belongs to, if any.
    throw new NotImplementedError("refresh-rotation");
  }

  /** Revokes every live family of the user. */
  async logoutEverywhere(userId: string): Promise<void> {
    // TODO: one UPDATE.
    throw new NotImplementedError("refresh-rotation");
  }
}
