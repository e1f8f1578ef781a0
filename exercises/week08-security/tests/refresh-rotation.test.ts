import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import { usePostgres } from "#fixtures/postgres";
import { createRefreshSchema } from "../src/refresh-schema";
import {
  type IssuedRefreshToken,
  type RefreshFailure,
  RefreshTokenError,
  type RefreshTokenOptions,
  RefreshTokenService,
  type ReuseEvent,
} from "../src/refresh-tokens";

const postgres = usePostgres();
const CONNECTIONS = 12;
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

let pool: pg.Pool;
beforeAll(async () => {
  // Enough sessions for the concurrent refreshes to really run side by side.
  pool = postgres.pool({ max: CONNECTIONS });
  await createRefreshSchema(pool);
});

let users = 0;
const newUser = () => `user-${++users}`;

function service(overrides: Partial<RefreshTokenOptions> = {}) {
  const clock = manualClock(T0);
  const reuses: ReuseEvent[] = [];
  const tokens = new RefreshTokenService({
    pool,
    clock,
    idleTtlMs: 10 * DAY,
    absoluteTtlMs: 30 * DAY,
    onReuse: (event) => void reuses.push(event),
    ...overrides,
  });
  return { tokens, clock, reuses };
}

async function refusal(promise: Promise<unknown>): Promise<RefreshFailure | "accepted"> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    expect(error, "rotate() refuses with a RefreshTokenError").toBeInstanceOf(RefreshTokenError);
    expect((error as RefreshTokenError).code).toBe("ERR_REFRESH_TOKEN");
    return (error as RefreshTokenError).reason;
  }
}

/** Every row of every table in this file's schema, as text (bytea as \x hex). */
async function everythingStored(): Promise<string> {
  const { rows: tables } = await postgres.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
    [postgres.schema],
  );
  const dumps: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await postgres.query<{ row: string }>(
      `SELECT t::text AS row FROM "${postgres.schema}"."${table_name}" t`,
    );
    dumps.push(...rows.map((r) => r.row));
  }
  return dumps.join("\n");
}

describe("login and rotation", () => {
  it("starts a family at login with a token that expires idleTtlMs later", async () => {
    const { tokens } = service();
    const user = newUser();
    const issued = await tokens.login(user);
    expect(issued.userId).toBe(user);
    expect(typeof issued.familyId).toBe("string");
    expect(issued.expiresAt.getTime(), "login time + idleTtlMs, from the injected clock").toBe(T0 + 10 * DAY);
    expect(typeof issued.token).toBe("string");
  });

  it("rotates a token into a new one of the same family, with a fresh expiry", async () => {
    const { tokens, clock } = service();
    const first = await tokens.login(newUser());
    clock.advance(DAY);
    const second = await tokens.rotate(first.token);
    expect(second.token, "rotation hands out a new token").not.toBe(first.token);
    expect(second.familyId, "the successor belongs to the same login").toBe(first.familyId);
    expect(second.userId).toBe(first.userId);
    expect(second.expiresAt.getTime()).toBe(T0 + DAY + 10 * DAY);
    const third = await tokens.rotate(second.token);
    expect(third.familyId).toBe(first.familyId);
  });

  it("stores only hashes: no token appears anywhere in the database, in any encoding", async () => {
    const { tokens } = service();
    const first = await tokens.login(newUser());
    const second = await tokens.rotate(first.token);
    const stored = await everythingStored();
    for (const { token } of [first, second]) {
      const needles = [token, Buffer.from(token).toString("hex"), Buffer.from(token, "base64url").toString("hex")];
      for (const needle of needles) {
        expect(
          stored.includes(needle),
          "a leaked table of live refresh tokens is a leaked set of sessions: store SHA-256(token)",
        ).toBe(false);
      }
    }
  });

  it("gives every login a different token", async () => {
    const { tokens } = service();
    const issued = await Promise.all(Array.from({ length: 20 }, () => tokens.login(newUser())));
    expect(new Set(issued.map((i) => i.token)).size).toBe(20);
  });

  it("refuses an unknown, an empty and an absurdly long token as invalid", async () => {
    const { tokens } = service();
    const { token } = await tokens.login(newUser());
    const unknown = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    expect(await refusal(tokens.rotate(unknown))).toBe("invalid");
    expect(await refusal(tokens.rotate(""))).toBe("invalid");
    expect(await refusal(tokens.rotate("x".repeat(100_000)))).toBe("invalid");
  });
});

describe("reuse detection: a second use of a token revokes its family", () => {
  it("refuses a rotated token as reused, and then refuses the family's current token too", async () => {
    const { tokens, reuses } = service();
    const first = await tokens.login(newUser());
    const second = await tokens.rotate(first.token);
    const third = await tokens.rotate(second.token);
    expect(
      await refusal(tokens.rotate(first.token)),
      "the thief (or the user) presents an old token: that is reuse",
    ).toBe("reused");
    expect(
      await refusal(tokens.rotate(third.token)),
      "we cannot tell who is the thief, so the whole family dies: the current token must stop working too",
    ).toBe("revoked");
    expect(reuses, "onReuse fires once, with the user and the family").toEqual([
      { userId: first.userId, familyId: first.familyId },
    ]);
  });

  it("fires onReuse once per family however often the old token comes back", async () => {
    const { tokens, reuses } = service();
    const first = await tokens.login(newUser());
    await tokens.rotate(first.token);
    const again = [await refusal(tokens.rotate(first.token)), await refusal(tokens.rotate(first.token))];
    expect(again[0]).toBe("reused");
    expect(["reused", "revoked"], "a token of a revoked family is refused").toContain(again[1]);
    expect(reuses.length, "one alert per stolen family, not one per attempt").toBe(1);
  });

  it("leaves the user's other logins alone", async () => {
    const { tokens } = service();
    const user = newUser();
    const laptop = await tokens.login(user);
    const phone = await tokens.login(user);
    await tokens.rotate(laptop.token);
    await refusal(tokens.rotate(laptop.token));
    const next = await tokens.rotate(phone.token);
    expect(next.familyId, "reuse on the laptop's family says nothing about the phone's").toBe(phone.familyId);
  });
});

describe("the audit trail", () => {
  it("records why a family was revoked: reuse, logout or logout-everywhere", async () => {
    const { tokens } = service();
    const reason = async (familyId: string) =>
      (
        await postgres.query<{ revoked_reason: string }>("SELECT revoked_reason FROM refresh_families WHERE id = $1", [
          familyId,
        ])
      ).rows[0]?.revoked_reason;
    const stolen = await tokens.login(newUser());
    await tokens.rotate(stolen.token);
    await refusal(tokens.rotate(stolen.token));
    const loggedOut = await tokens.login(newUser());
    await tokens.logout(loggedOut.token);
    const everywhere = await tokens.login(newUser());
    await tokens.logoutEverywhere(everywhere.userId);
    expect(
      [await reason(stolen.familyId), await reason(loggedOut.familyId), await reason(everywhere.familyId)],
      "refresh-schema.ts: revoked_reason is 'reuse', 'logout' or 'logout-everywhere'",
    ).toEqual(["reuse", "logout", "logout-everywhere"]);
  });

  it("works without an onReuse hook", async () => {
    const tokens = new RefreshTokenService({ pool, clock: manualClock(T0) });
    const first = await tokens.login(newUser());
    await tokens.rotate(first.token);
    expect(await refusal(tokens.rotate(first.token)), "onReuse is optional").toBe("reused");
  });
});

describe("logout", () => {
  it("revokes the family: neither the token nor any successor works afterwards", async () => {
    const { tokens } = service();
    const first = await tokens.login(newUser());
    const second = await tokens.rotate(first.token);
    await tokens.logout(second.token);
    expect(await refusal(tokens.rotate(second.token)), "logout must end the session server-side").toBe("revoked");
  });

  it("revokes the family from any of its tokens, and is a no-op for an unknown token or a second call", async () => {
    const { tokens } = service();
    const first = await tokens.login(newUser());
    const second = await tokens.rotate(first.token);
    await tokens.logout(first.token);
    await tokens.logout(first.token);
    await tokens.logout("not-a-token");
    expect(await refusal(tokens.rotate(second.token))).toBe("revoked");
  });

  it("logoutEverywhere revokes every login of the user and no one else's", async () => {
    const { tokens } = service();
    const user = newUser();
    const other = await tokens.login(newUser());
    const sessions = [await tokens.login(user), await tokens.login(user)];
    await tokens.logoutEverywhere(user);
    for (const session of sessions) expect(await refusal(tokens.rotate(session.token))).toBe("revoked");
    expect((await tokens.rotate(other.token)).userId, "another user's session is untouched").toBe(other.userId);
  });
});

describe("expiry, from the injected clock", () => {
  it("accepts a token until idleTtlMs has passed, and refuses it from then on", async () => {
    const { tokens, clock } = service();
    const user = newUser();
    const a = await tokens.login(user);
    const b = await tokens.login(user);
    clock.advance(10 * DAY - 1);
    await tokens.rotate(a.token);
    clock.advance(1);
    expect(await refusal(tokens.rotate(b.token)), "now >= expires_at: expired").toBe("expired");
  });

  it("never extends a family past absoluteTtlMs, however often it rotates", async () => {
    const { tokens, clock } = service();
    let current: IssuedRefreshToken = await tokens.login(newUser());
    for (let day = 9; day <= 27; day += 9) {
      clock.set(T0 + day * DAY);
      current = await tokens.rotate(current.token);
    }
    expect(current.expiresAt.getTime(), "rotated on day 27: idle says day 37, the family ends on day 30").toBe(
      T0 + 30 * DAY,
    );
    clock.set(T0 + 30 * DAY);
    expect(await refusal(tokens.rotate(current.token)), "a stolen token rotated forever must still die").toBe(
      "expired",
    );
  });

  it("has defaults of 14 days idle and 30 days absolute", async () => {
    const clock = manualClock(T0);
    const tokens = new RefreshTokenService({ pool, clock });
    const issued = await tokens.login(newUser());
    expect(issued.expiresAt.getTime()).toBe(T0 + 14 * DAY);
    let current = issued;
    for (let day = 13; day <= 26; day += 13) {
      clock.set(T0 + day * DAY);
      current = await tokens.rotate(current.token);
    }
    expect(current.expiresAt.getTime()).toBe(T0 + 30 * DAY);
  });
});

describe("concurrent refreshes of one token over real concurrent connections", () => {
  it("lets exactly one win; every other attempt is reuse, and the family dies with the winner's token", async () => {
    // Open every connection first, so the attempts below run side by side instead of
    // queueing behind connection setup.
    const warm = await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.connect()));
    for (const client of warm) client.release();

    for (let round = 0; round < 3; round++) {
      const { tokens, reuses } = service();
      const { token, userId, familyId } = await tokens.login(newUser());
      const attempts = await Promise.allSettled(Array.from({ length: CONNECTIONS }, () => tokens.rotate(token)));
      const winners = attempts.filter((a): a is PromiseFulfilledResult<IssuedRefreshToken> => a.status === "fulfilled");
      expect(
        winners.length,
        `round ${round}: one token, one successor; a SELECT then an UPDATE lets several through`,
      ).toBe(1);
      for (const attempt of attempts) {
        if (attempt.status === "rejected") {
          expect(attempt.reason, "a losing attempt is refused with a RefreshTokenError").toBeInstanceOf(
            RefreshTokenError,
          );
          expect(["reused", "revoked"], "no grace window: a second use is reuse").toContain(
            (attempt.reason as RefreshTokenError).reason,
          );
        }
      }
      expect(
        await refusal(tokens.rotate(winners[0]!.value.token)),
        "reuse revoked the family, the winner's token with it",
      ).toBe("revoked");
      expect(reuses, "one reuse alert for the family, not one per losing attempt").toEqual([{ userId, familyId }]);
    }
  });
});
