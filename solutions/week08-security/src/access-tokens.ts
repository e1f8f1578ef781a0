// Reference solution of the jwt-auth kata: issuing and verifying RFC 9068 access tokens.

import { randomUUID } from "node:crypto";
import {
  createLocalJWKSet,
  type CryptoKey,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from "jose";
import type { Clock } from "./clock";

export const ACCESS_TOKEN_TYPE = "at+jwt";

export const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export type VerificationKey = CryptoKey | KeyObject | JWK | Uint8Array;

export type KeyResolver = (kid: string, alg: string) => Promise<VerificationKey | undefined>;

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey | KeyObject;
}

export interface IssuerConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly clock: Clock;
  readonly ttlSeconds?: number;
}

export interface AccessTokenRequest {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
}

export interface VerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly keys: KeyResolver;
  readonly clock: Clock;
  readonly clockToleranceSeconds?: number;
  readonly maxTokenBytes?: number;
}

export interface VerifiedAccessToken {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly tokenId: string;
  readonly keyId: string;
}

export class InvalidTokenError extends Error {
  readonly code = "ERR_INVALID_TOKEN";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidTokenError";
  }
}

export type AccessTokenVerifier = (token: string) => Promise<VerifiedAccessToken>;

const DEFAULT_TTL_SECONDS = 300;
const DEFAULT_TOLERANCE_SECONDS = 5;
const DEFAULT_MAX_TOKEN_BYTES = 8192;

// Three non-empty base64url segments. Anchored and with no overlapping classes, so it runs
// in linear time on whatever an attacker sends.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
// RFC 9068 §2.2: what every access token carries. jose adds iss and aud from the options.
const REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "client_id"];

const seconds = (clock: Clock) => Math.floor(clock.now() / 1000);

/** Signs an RFC 9068 access token. Throws a RangeError for a scope that is not a scope token. */
export async function issueAccessToken(
  key: SigningKey,
  config: IssuerConfig,
  request: AccessTokenRequest,
): Promise<string> {
  for (const scope of request.scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw new RangeError(`not a scope token: ${JSON.stringify(scope)}`);
  }
  const issuedAt = seconds(config.clock);
  return new SignJWT({ client_id: request.clientId, scope: request.scopes.join(" ") })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(request.subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (config.ttlSeconds ?? DEFAULT_TTL_SECONDS))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

function claimsOf(payload: JWTPayload, keyId: string): VerifiedAccessToken {
  const { sub, client_id: clientId, scope, iat, exp, jti } = payload;
  // jose checked presence and the numeric dates; the types of the rest are ours to check.
  if (typeof sub !== "string" || sub === "" || typeof clientId !== "string" || typeof jti !== "string") {
    throw new InvalidTokenError("sub, client_id and jti must be strings");
  }
  if (scope !== undefined && typeof scope !== "string") throw new InvalidTokenError("scope must be a string");
  return {
    subject: sub,
    clientId,
    scopes: scope ? scope.split(" ").filter(Boolean) : [],
    issuedAt: iat!,
    expiresAt: exp!,
    tokenId: jti,
    keyId,
  };
}

/** A verifier that accepts only what the options allow, and rejects the rest with InvalidTokenError. */
export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const algorithms = [...options.algorithms];
  if (algorithms.length === 0 || algorithms.includes("none")) {
    throw new TypeError("algorithms must be a non-empty allow-list");
  }
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;

  return async (token) => {
    // Size and shape before any decoding: a 64 KB token costs one comparison.
    if (token.length > maxTokenBytes) throw new InvalidTokenError("token too large");
    if (!COMPACT_JWS.test(token)) throw new InvalidTokenError("not a compact JWS of three base64url segments");

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw new InvalidTokenError("unreadable header", { cause });
    }
    const { alg, kid } = header;
    // Exact membership: "es256" or "ES256 " are not ES256.
    if (typeof alg !== "string" || !algorithms.includes(alg)) throw new InvalidTokenError("alg not allowed");
    if (typeof kid !== "string" || !KID_PATTERN.test(kid)) throw new InvalidTokenError("kid missing or malformed");

    try {
      const { payload } = await jwtVerify(
        token,
        async () => {
          // Only the kid and alg checked above reach the store; jku, x5u, x5c and jwk are
          // never looked at, so the token cannot choose its own key.
          const key = await options.keys(kid, alg);
          if (key === undefined) throw new InvalidTokenError("unknown kid");
          return key;
        },
        {
          algorithms,
          issuer: options.issuer,
          audience: options.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: REQUIRED_CLAIMS,
          clockTolerance,
          currentDate: new Date(options.clock.now()),
        },
      );
      return claimsOf(payload, kid);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      if (error instanceof errors.JOSEError) throw new InvalidTokenError(error.code, { cause: error });
      // The key store failed: not the token's fault.
      throw error;
    }
  };
}

/** A KeyResolver over a JWKS: the kid picks the key, an unknown kid answers undefined. */
export function jwksKeyResolver(jwks: JSONWebKeySet): KeyResolver {
  const keySet = createLocalJWKSet(jwks);
  return async (kid, alg) => {
    try {
      return await keySet({ kid, alg });
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return undefined;
      throw error;
    }
  };
}
