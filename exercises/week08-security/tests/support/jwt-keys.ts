// Keys, a JWKS and a token forge shared by the two jwt-auth test files. The forge signs with
// jose directly, so every attack token is exactly what the test says it is.
import { randomUUID } from "node:crypto";
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from "jose";

export const ISSUER = "https://auth.example.com";
export const AUDIENCE = "https://api.example.com";
/** 2026-01-01T09:00:00Z, in milliseconds: the tests' "now". */
export const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
export const NOW_S = T0 / 1000;
/** The allow-list every test verifier uses. PS512 and HS256 are deliberately not on it. */
export const ALGORITHMS = ["ES256", "RS256"];

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK as a JWKS publishes it: kid and use, no alg member (alg is OPTIONAL). */
  readonly publicJwk: JWK;
}

export interface TestKeys {
  /** The issuer's current signing key. */
  readonly current: TestKey;
  /** The key it signed with before the rotation. */
  readonly previous: TestKey;
  /** An RSA key in the same JWKS (a legacy client's tokens are RS256). */
  readonly rsa: TestKey;
  /** A key the attacker made; it is in no JWKS of ours. */
  readonly attacker: TestKey;
}

async function makeKey(kid: string, alg: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: "sig" };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export async function makeKeys(): Promise<TestKeys> {
  const [current, previous, rsa, attacker] = await Promise.all([
    makeKey("k-2026-01", "ES256"),
    makeKey("k-2025-07", "ES256"),
    makeKey("rsa-legacy", "RS256"),
    makeKey("attacker-1", "ES256"),
  ]);
  return { current, previous, rsa, attacker };
}

export const jwksOf = (...keys: TestKey[]): JSONWebKeySet => ({ keys: keys.map((k) => k.publicJwk) });

/** The claims of a valid access token at T0, which a test overrides or deletes (undefined). */
export function validClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "user-42",
    client_id: "web-app",
    scope: "expenses:read expenses:write",
    iat: NOW_S,
    exp: NOW_S + 300,
    jti: randomUUID(),
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

export interface ForgeOptions {
  readonly header?: Partial<JWTHeaderParameters> & Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
  /** Sign with this key instead of the one the header names. */
  readonly signWith?: CryptoKey | Uint8Array;
  /** crit parameters jose must let through when signing. */
  readonly crit?: Record<string, boolean>;
}

/** A token signed by `key` (kid, alg, typ at+jwt unless overridden) with valid claims at T0. */
export function forge(key: TestKey, options: ForgeOptions = {}): Promise<string> {
  const header = { alg: key.alg, kid: key.kid, typ: "at+jwt", ...options.header } as JWTHeaderParameters;
  for (const [name, value] of Object.entries(header)) {
    if (value === undefined) delete (header as Record<string, unknown>)[name];
  }
  return new SignJWT(validClaims(options.claims))
    .setProtectedHeader(header)
    .sign(options.signWith ?? key.privateKey, options.crit ? { crit: options.crit } : undefined);
}

export const b64url = (value: string | Uint8Array) => Buffer.from(value).toString("base64url");

/** A JWS without a signature algorithm: what `alg: none` looks like on the wire. */
export const unsecured = (header: Record<string, unknown>, claims: JWTPayload) =>
  `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.`;

export const publicPem = (key: TestKey) => exportSPKI(key.publicKey);
