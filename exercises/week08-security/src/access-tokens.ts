// Kata: jwt-auth
//
// An access token is a signed claim ("user-42 may read expenses until 10:05") that every API
// instance checks on its own, without asking the auth server. That only works if the check
// leaves an attacker no way in. Build, with jose:
// - issueAccessToken(): an RFC 9068 JWT access token. Header: the key's alg and kid, and
//   typ "at+jwt". Claims: iss, aud, sub, client_id, scope (space-separated), iat, exp (iat +
//   ttlSeconds, default 300) and a random jti. Times are whole seconds from the injected clock.
// - createAccessTokenVerifier(): a function that turns a token into VerifiedAccessToken or
//   rejects with InvalidTokenError. It must refuse, in this order of cost:
//   1. a token longer than maxTokenBytes (default 8192), before anything else is done with it;
//   2. anything but three non-empty base64url segments (A-Z a-z 0-9 - _) joined by dots: no
//      padding, no whitespace (jose on Node 20 forgives both in a signature);
//   3. an alg that is not exactly one of `algorithms`, and a kid that is missing or does not
//      match KID_PATTERN: only then may `keys` be asked (a kid is attacker input: it must
//      never reach a file path, a query or a URL). Keys come from `keys` only, never from
//      the token's own jku, x5u, x5c or jwk headers;
//   4. a bad signature, a typ other than at+jwt, a wrong iss or aud, a missing iss, aud, exp,
//      iat, sub, jti or client_id, an exp at or before now − tolerance, an nbf after now +
//      tolerance, an unknown crit header. Time comes from `clock`, never from Date.now().
//   Errors of the key store itself (not "unknown kid", which is undefined) are not token
//   errors: let them through unchanged, so they become a 500 and not a 401.
// - jwksKeyResolver(): a KeyResolver over a JSON Web Key Set, so keys rotate by publishing
//   a new set: the kid picks the key, and an unknown kid answers undefined.
//
// Tests: tests/jwt-auth.test.ts and tests/jwt-attacks.test.ts (npm run check week8 jwt-auth).
// Keep the exported names and signatures: the tests import them.

import type { CryptoKey, JSONWebKeySet, JWK, KeyObject } from "jose";
import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

/** The typ of an access token (RFC 9068 §2.1); "application/at+jwt" means the same. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/** What a kid may look like before a key store sees it: 1 to 128 of A-Z a-z 0-9 . _ - */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** A key jose can verify with. */
export type VerificationKey = CryptoKey | KeyObject | JWK | Uint8Array;

/**
 * Finds the verification key for a kid and alg that the verifier has already checked.
 * Answers undefined for an unknown kid; rejects only when the store itself fails.
 */
export type KeyResolver = (kid: string, alg: string) => Promise<VerificationKey | undefined>;

/** The issuer's private key, with the kid it publishes in its JWKS. */
export interface SigningKey {
  readonly kid: string;
  /** A JWS alg such as "ES256"; the key must be of that type. */
  readonly alg: string;
  readonly privateKey: CryptoKey | KeyObject;
}

export interface IssuerConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly clock: Clock;
  /** Lifetime of a token in seconds. Default 300. */
  readonly ttlSeconds?: number;
}

export interface AccessTokenRequest {
  readonly subject: string;
  readonly clientId: string;
  /** Scope tokens (RFC 6749 §3.3): printable ASCII without spaces, quotes or backslashes. */
  readonly scopes: readonly string[];
}

export interface VerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** The allow-list of JWS algs, compared exactly. Never empty, never "none". */
  readonly algorithms: readonly string[];
  readonly keys: KeyResolver;
  readonly clock: Clock;
  /** Leeway for exp and nbf, in seconds. Default 5. */
  readonly clockToleranceSeconds?: number;
  /** Longest token accepted, in bytes. Default 8192. */
  readonly maxTokenBytes?: number;
}

/** What a valid access token says. */
export interface VerifiedAccessToken {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** iat, in seconds since the epoch. */
  readonly issuedAt: number;
  /** exp, in seconds since the epoch. */
  readonly expiresAt: number;
  /** jti. */
  readonly tokenId: string;
  /** The kid of the key that verified it. */
  readonly keyId: string;
}

/** The token is not acceptable, for whatever reason. Its message is for logs, not for clients. */
export class InvalidTokenError extends Error {
  readonly code = "ERR_INVALID_TOKEN";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidTokenError";
  }
}

export type AccessTokenVerifier = (token: string) => Promise<VerifiedAccessToken>;

/** Signs an RFC 9068 access token. Throws a RangeError for a scope that is not a scope token. */
export async function issueAccessToken(
  key: SigningKey,
  config: IssuerConfig,
  request: AccessTokenRequest,
): Promise<string> {
  // TODO: new SignJWT({ client_id, scope }).setProtectedHeader({ alg, kid, typ })...sign(key.privateKey)
  throw new NotImplementedError("jwt-auth");
}

/** A verifier that accepts only what the options allow, and rejects the rest with InvalidTokenError. */
export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  // TODO: the cheap checks first (size, shape, alg, kid), then jwtVerify with every option pinned.
  throw new NotImplementedError("jwt-auth");
}

/** A KeyResolver over a JWKS: the kid picks the key, an unknown kid answers undefined. */
export function jwksKeyResolver(jwks: JSONWebKeySet): KeyResolver {
  // TODO: createLocalJWKSet(jwks) does the matching; turn "no matching key" into undefined.
  throw new NotImplementedError("jwt-auth");
}
