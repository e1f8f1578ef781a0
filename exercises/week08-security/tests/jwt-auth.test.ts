import express from "express";
import { decodeProtectedHeader, jwtVerify } from "jose";
import request from "supertest";
import { beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  InvalidTokenError,
  issueAccessToken,
  jwksKeyResolver,
  type KeyResolver,
  type VerifierOptions,
} from "../src/access-tokens";
import { bearerAuth, requireScopes } from "../src/bearer-auth";
import { ALGORITHMS, AUDIENCE, forge, ISSUER, jwksOf, makeKeys, NOW_S, T0, type TestKeys } from "./support/jwt-keys";

let keys: TestKeys;
beforeAll(async () => {
  keys = await makeKeys();
});

function verifierFor(overrides: Partial<VerifierOptions> = {}): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ALGORITHMS,
    keys: jwksKeyResolver(jwksOf(keys.current, keys.previous, keys.rsa)),
    clock: manualClock(T0),
    ...overrides,
  });
}

const issuer = (clock = manualClock(T0), ttlSeconds?: number) => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  clock,
  ttlSeconds,
});
const signer = () => ({ kid: keys.current.kid, alg: keys.current.alg, privateKey: keys.current.privateKey });
const request42 = { subject: "user-42", clientId: "web-app", scopes: ["expenses:read", "expenses:write"] };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

async function expectRefused(verify: AccessTokenVerifier, token: string, why: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await verify(token);
  } catch (error) {
    expect(error, `${why} (it must be an InvalidTokenError)`).toBeInstanceOf(InvalidTokenError);
    expect((error as InvalidTokenError).code).toBe("ERR_INVALID_TOKEN");
    return;
  }
  expect.fail(`${why}: the token was ACCEPTED as ${JSON.stringify(outcome)}`);
}

describe("issueAccessToken: an RFC 9068 access token", () => {
  it("signs with the key's alg and kid, typ at+jwt, and every claim RFC 9068 requires", async () => {
    const token = await issueAccessToken(signer(), issuer(), request42);
    const header = decodeProtectedHeader(token);
    expect(header, "RFC 9068 §2.1: the typ header says what kind of JWT this is").toEqual({
      alg: "ES256",
      kid: "k-2026-01",
      typ: "at+jwt",
    });
    const { payload } = await jwtVerify(token, keys.current.publicKey, {
      algorithms: ["ES256"],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: "at+jwt",
      currentDate: new Date(T0),
    });
    expect(payload).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: "user-42",
      client_id: "web-app",
      scope: "expenses:read expenses:write",
      iat: NOW_S,
      exp: NOW_S + 300,
    });
    expect(typeof payload.jti, "jti identifies the token (revocation lists, replay detection)").toBe("string");
  });

  it("takes time from the injected clock and the lifetime from ttlSeconds", async () => {
    const clock = manualClock(T0 + 12_345);
    const { payload } = await jwtVerify(
      await issueAccessToken(signer(), issuer(clock, 60), request42),
      keys.current.publicKey,
      {
        currentDate: new Date(clock.now()),
      },
    );
    expect([payload.iat, payload.exp], "whole seconds, floored, from clock.now()").toEqual([NOW_S + 12, NOW_S + 72]);
  });

  it("gives every token its own jti", async () => {
    const a = await jwtVerify(await issueAccessToken(signer(), issuer(), request42), keys.current.publicKey, {
      currentDate: new Date(T0),
    });
    const b = await jwtVerify(await issueAccessToken(signer(), issuer(), request42), keys.current.publicKey, {
      currentDate: new Date(T0),
    });
    expect(a.payload.jti).not.toBe(b.payload.jti);
  });

  it("refuses a scope with a space in it, which would silently become two scopes", async () => {
    await expect(
      issueAccessToken(signer(), issuer(), { ...request42, scopes: ["expenses:read admin"] }),
    ).rejects.toThrow(RangeError);
  });
});

describe("createAccessTokenVerifier: what a valid token gives", () => {
  it("verifies a token from issueAccessToken and returns its claims", async () => {
    const token = await issueAccessToken(signer(), issuer(), request42);
    const verified = await verifierFor()(token);
    expect(verified).toMatchObject({
      subject: "user-42",
      clientId: "web-app",
      scopes: ["expenses:read", "expenses:write"],
      issuedAt: NOW_S,
      expiresAt: NOW_S + 300,
      keyId: "k-2026-01",
    });
    expect(typeof verified.tokenId).toBe("string");
  });

  it("accepts typ application/at+jwt, which RFC 9068 treats as the same type", async () => {
    const token = await forge(keys.current, { header: { typ: "application/at+jwt" } });
    expect((await verifierFor()(token)).subject).toBe("user-42");
  });

  it("accepts an aud array that contains this API", async () => {
    const token = await forge(keys.current, { claims: { aud: ["https://other.example.com", AUDIENCE] } });
    expect((await verifierFor()(token)).subject).toBe("user-42");
  });

  it("verifies RS256 tokens signed by the RSA key of the same JWKS", async () => {
    expect((await verifierFor()(await forge(keys.rsa))).keyId).toBe("rsa-legacy");
  });

  it("refuses a token of another type: an ID token (typ JWT) or no typ at all", async () => {
    const verify = verifierFor();
    await expectRefused(
      verify,
      await forge(keys.current, { header: { typ: "JWT" } }),
      "RFC 8725 §3.11: an ID token replayed as an access token",
    );
    await expectRefused(
      verify,
      await forge(keys.current, { header: { typ: undefined } }),
      "no typ: explicit typing is required",
    );
  });

  it("requires iss, aud, exp, iat, sub, jti and client_id", async () => {
    const verify = verifierFor();
    for (const claim of ["iss", "aud", "exp", "iat", "sub", "jti", "client_id"]) {
      await expectRefused(
        verify,
        await forge(keys.current, { claims: { [claim]: undefined } }),
        `a token without ${claim} is not an access token`,
      );
    }
  });
});

describe("createAccessTokenVerifier: claims of the wrong type, and its own options", () => {
  it("refuses claims of the wrong type, which jose checks for presence only", async () => {
    const verify = verifierFor();
    const wrong = { sub: 42, client_id: 7, jti: 1, scope: ["expenses:read"] };
    for (const [claim, value] of [...Object.entries(wrong), ["sub", ""]] as [string, unknown][]) {
      const token = await forge(keys.current, { claims: { [claim]: value } });
      await expectRefused(verify, token, `${claim} = ${JSON.stringify(value)}: the routes rely on its type`);
    }
  });

  it("gives a token without a scope claim no scopes at all", async () => {
    const token = await forge(keys.current, { claims: { scope: undefined } });
    expect((await verifierFor()(token)).scopes, "RFC 9068: scope is optional; absent means none").toEqual([]);
    const spaced = await forge(keys.current, { claims: { scope: " expenses:read  expenses:write " } });
    expect((await verifierFor()(spaced)).scopes, "extra spaces make no empty scopes").toEqual([
      "expenses:read",
      "expenses:write",
    ]);
  });

  it("refuses to be built with an empty allow-list, or one that contains none", () => {
    expect(
      () => verifierFor({ algorithms: [] }),
      "an empty allow-list would leave the choice to jose's defaults",
    ).toThrow(TypeError);
    expect(() => verifierFor({ algorithms: ["ES256", "none"] }), "none is never an algorithm to allow").toThrow(
      TypeError,
    );
  });
});

describe("time: exp and nbf against the injected clock, with a small tolerance", () => {
  it("refuses a token that expired one second ago at tolerance 0, and accepts it at tolerance 5", async () => {
    const token = await forge(keys.current, { claims: { exp: NOW_S - 1 } });
    await expectRefused(verifierFor({ clockToleranceSeconds: 0 }), token, "exp = now − 1 is expired");
    expect((await verifierFor({ clockToleranceSeconds: 5 })(token)).subject, "within the leeway for clock skew").toBe(
      "user-42",
    );
  });

  it("treats exp as exclusive: a token whose exp is now is expired", async () => {
    await expectRefused(
      verifierFor({ clockToleranceSeconds: 0 }),
      await forge(keys.current, { claims: { exp: NOW_S } }),
      "RFC 7519 §4.1.4: on or after exp, reject",
    );
  });

  it("has a small default tolerance: one second of skew passes, two minutes do not", async () => {
    const verify = verifierFor();
    expect((await verify(await forge(keys.current, { claims: { exp: NOW_S - 1 } }))).subject).toBe("user-42");
    await expectRefused(
      verify,
      await forge(keys.current, { claims: { exp: NOW_S - 120 } }),
      "a default leeway of minutes stretches every token's life",
    );
  });

  it("refuses a token whose nbf is in the future", async () => {
    await expectRefused(
      verifierFor(),
      await forge(keys.current, { claims: { nbf: NOW_S + 60 } }),
      "not valid before nbf",
    );
  });

  it("follows the clock it was given, not the wall clock", async () => {
    const clock = manualClock(T0);
    const verify = verifierFor({ clock });
    const token = await forge(keys.current, { claims: { exp: NOW_S + 60 } });
    expect((await verify(token)).subject).toBe("user-42");
    clock.advance(120_000);
    await expectRefused(verify, token, "two minutes later by the injected clock, the token has expired");
  });
});

describe("key rotation through a JWKS with two keys", () => {
  it("verifies tokens from both the current and the previous key, picked by kid", async () => {
    const verify = verifierFor({ keys: jwksKeyResolver(jwksOf(keys.current, keys.previous)) });
    expect((await verify(await forge(keys.current))).keyId).toBe("k-2026-01");
    expect(
      (await verify(await forge(keys.previous))).keyId,
      "tokens issued before the rotation stay valid until they expire",
    ).toBe("k-2025-07");
  });

  it("refuses a token signed by the previous key that claims the current kid", async () => {
    const verify = verifierFor({ keys: jwksKeyResolver(jwksOf(keys.current, keys.previous)) });
    await expectRefused(
      verify,
      await forge(keys.current, { signWith: keys.previous.privateKey }),
      "the kid picks the key; the signature must match that key",
    );
  });

  it("refuses the previous key's tokens once it leaves the JWKS", async () => {
    const token = await forge(keys.previous);
    await expectRefused(
      verifierFor({ keys: jwksKeyResolver(jwksOf(keys.current)) }),
      token,
      "a retired key must stop verifying",
    );
  });

  it("answers undefined for an unknown kid, and the verifier refuses such a token", async () => {
    const resolver = jwksKeyResolver(jwksOf(keys.current));
    expect(await resolver("k-1999-01", "ES256"), "an unknown kid is not an error of the store").toBeUndefined();
    await expectRefused(verifierFor(), await forge(keys.current, { header: { kid: "k-1999-01" } }), "no key, no trust");
  });

  it("rejects, rather than answering undefined, when the JWKS itself is broken (two keys with one kid)", async () => {
    const twins = { keys: [keys.current.publicJwk, { ...keys.previous.publicJwk, kid: keys.current.kid }] };
    await expect(
      jwksKeyResolver(twins)(keys.current.kid, "ES256"),
      "undefined means 'no such kid'; an ambiguous key set is a broken store",
    ).rejects.toThrow();
  });

  it("refuses a token without a kid", async () => {
    await expectRefused(
      verifierFor(),
      await forge(keys.current, { header: { kid: undefined } }),
      "with two keys published, a kid is required",
    );
  });
});

/** The parameters of a Bearer challenge (RFC 9110 §11.6.1), or undefined for another scheme. */
function bearerChallenge(header: string | undefined): Record<string, string> | undefined {
  const match = /^Bearer(?:\s+(.*))?$/i.exec(header ?? "");
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const part of (match[1] ?? "").matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[part[1]!.toLowerCase()] = part[2] !== undefined ? part[2].replace(/\\(.)/g, "$1") : part[3]!;
  }
  return params;
}

function app(verify: AccessTokenVerifier) {
  const api = express();
  api.get("/expenses", bearerAuth(verify), requireScopes("expenses:read"), (_req, res) => {
    res.json({ subject: res.locals.accessToken.subject, scopes: res.locals.accessToken.scopes });
  });
  api.post(
    "/expenses/approve",
    bearerAuth(verify, { realm: "expenses" }),
    requireScopes("expenses:read", "expenses:approve"),
    (_req, res) => {
      res.json({ approved: true });
    },
  );
  return api;
}

describe("bearerAuth and requireScopes: RFC 6750 answers", () => {
  it("lets a valid token through and hands the route its claims", async () => {
    const res = await request(app(verifierFor()))
      .get("/expenses")
      .set("Authorization", `Bearer ${await forge(keys.current)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: "user-42", scopes: ["expenses:read", "expenses:write"] });
  });

  it("reads the scheme case-insensitively: 'bearer' is 'Bearer'", async () => {
    const res = await request(app(verifierFor()))
      .get("/expenses")
      .set("Authorization", `bearer ${await forge(keys.current)}`);
    expect(res.status, "RFC 9110 §11.1: auth-scheme names are case-insensitive").toBe(200);
  });

  it("answers a request without credentials with 401 and a challenge that carries no error code", async () => {
    const res = await request(app(verifierFor())).get("/expenses");
    expect(res.status).toBe(401);
    const challenge = bearerChallenge(res.headers["www-authenticate"]);
    expect(challenge, "a 401 must say how to authenticate: WWW-Authenticate: Bearer").toBeDefined();
    expect(challenge!.realm).toBe("api");
    expect(challenge!.error, "RFC 6750 §3.1: no error code when the request had no credentials at all").toBeUndefined();
    expect(res.headers["cache-control"], "a 401 depends on the request's credentials: no cache may keep it").toBe(
      "no-store",
    );
  });

  it("treats another scheme (Basic) as no bearer credentials: 401 without an error code", async () => {
    const res = await request(app(verifierFor())).get("/expenses").set("Authorization", "Basic dXNlcjpwYXNz");
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])?.error).toBeUndefined();
  });

  it("answers 401 error=invalid_token for a token the verifier refuses", async () => {
    const token = await forge(keys.current, { claims: { exp: NOW_S - 600 } });
    const res = await request(app(verifierFor())).post("/expenses/approve").set("Authorization", `Bearer ${token}`);
    expect(res.status).toBe(401);
    const challenge = bearerChallenge(res.headers["www-authenticate"]);
    expect(challenge?.error, "the client must learn to fetch a new token").toBe("invalid_token");
    expect(challenge?.realm, "the realm option").toBe("expenses");
    const quotedRealm = express().get(
      "/x",
      bearerAuth(verifierFor(), { realm: 'acme "prod" \\ eu' }),
      (_q, r) => void r.end(),
    );
    const quotedRes = await request(quotedRealm).get("/x");
    expect(bearerChallenge(quotedRes.headers["www-authenticate"])?.realm, 'a quoted-string escapes " and \\').toBe(
      'acme "prod" \\ eu',
    );
  });

  it("answers 400 error=invalid_request for 'Bearer' without a token or with two", async () => {
    const verify = verifierFor();
    for (const header of ["Bearer", "Bearer ", `Bearer ${await forge(keys.current)} ${await forge(keys.current)}`]) {
      const res = await request(app(verify)).get("/expenses").set("Authorization", header);
      expect(res.status, `Authorization: ${header.slice(0, 20)}… is a malformed request`).toBe(400);
      expect(bearerChallenge(res.headers["www-authenticate"])?.error).toBe("invalid_request");
    }
  });

  it("answers 403 error=insufficient_scope, naming the scopes the route needs", async () => {
    const token = await forge(keys.current, { claims: { scope: "expenses:read" } });
    const res = await request(app(verifierFor())).post("/expenses/approve").set("Authorization", `Bearer ${token}`);
    expect(res.status, "a valid token without the scope: forbidden, not unauthenticated").toBe(403);
    const challenge = bearerChallenge(res.headers["www-authenticate"]);
    expect(challenge?.error).toBe("insufficient_scope");
    expect(challenge?.scope?.split(" ").sort(), "RFC 6750 §3: the scope the client should ask for").toEqual([
      "expenses:approve",
      "expenses:read",
    ]);
  });

  it("refuses with 401 when requireScopes runs without bearerAuth in front of it", async () => {
    const api = express();
    api.get("/open", requireScopes("expenses:read"), (_req, res) => void res.json({ served: true }));
    const res = await request(api).get("/open");
    expect(res.status, "a scope check with no token to look at must deny, never let the route run").toBe(401);
  });

  it("turns a failing key store into a server error, not a 401 that makes clients drop valid tokens", async () => {
    const down: KeyResolver = () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.7:5432"));
    const verify = verifierFor({ keys: down });
    const token = await forge(keys.current);
    const error = await rejection(verify(token));
    expect(error instanceof InvalidTokenError, "the store failed, not the token").toBe(false);
    const res = await request(app(verify)).get("/expenses").set("Authorization", `Bearer ${token}`);
    expect(res.status, "the key store is down: a 500 (next(error)), not a 401 for a token that may be fine").toBe(500);
  });
});
