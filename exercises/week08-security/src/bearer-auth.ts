// Kata: jwt-auth (the HTTP half)
//
// Express middleware that puts the verifier in front of routes and answers in the words of
// RFC 6750 §3, so a client knows whether to fetch a new token or to ask for more scope:
// - no Authorization header, or another scheme (Basic ...): 401 with a challenge and no
//   error code (`WWW-Authenticate: Bearer realm="api"`);
// - "Bearer" without a token, or with anything that is not one b64token: 400, error="invalid_request";
// - a token the verifier rejects with InvalidTokenError: 401, error="invalid_token";
// - a valid token without a scope the route needs: 403, error="insufficient_scope" and a
//   scope parameter naming the scopes it needs (space-separated).
// The scheme name is case-insensitive (RFC 9110 §11.1): "bearer" is "Bearer". Every other
// error of the verifier (a key store that is down) goes to next(error): it is not the
// client's fault, and a 401 would make every client throw its valid token away.
// A verified token is stored on res.locals.accessToken for the handlers.
//
// Tests: tests/jwt-auth.test.ts (npm run check week8 jwt-auth).
// Keep the exported names and signatures: the tests import them.

import type { RequestHandler } from "express";
import { NotImplementedError } from "#kata";
import type { AccessTokenVerifier, VerifiedAccessToken } from "./access-tokens";

export interface BearerAuthOptions {
  /** The realm of the challenge. Default "api". */
  readonly realm?: string;
}

/** What bearerAuth leaves on res.locals for the routes behind it. */
export interface AuthenticatedLocals {
  accessToken: VerifiedAccessToken;
}

/** Verifies `Authorization: Bearer <token>` and stores the result on res.locals.accessToken. */
export function bearerAuth(verify: AccessTokenVerifier, options: BearerAuthOptions = {}): RequestHandler {
  // TODO: parse the header, call verify, answer 400/401 with WWW-Authenticate, or call next().
  throw new NotImplementedError("jwt-auth");
}

/** Lets the request through only when res.locals.accessToken has every one of the scopes. */
export function requireScopes(...scopes: string[]): RequestHandler {
  // TODO: 403 with error="insufficient_scope" and scope="<needed>" when one is missing.
  throw new NotImplementedError("jwt-auth");
}
