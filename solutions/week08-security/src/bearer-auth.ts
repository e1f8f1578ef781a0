// Reference solution of the jwt-auth kata, the HTTP half: RFC 6750 bearer middleware.

import type { Request, RequestHandler, Response } from "express";
import { type AccessTokenVerifier, InvalidTokenError, type VerifiedAccessToken } from "./access-tokens";

export interface BearerAuthOptions {
  readonly realm?: string;
}

export interface AuthenticatedLocals {
  accessToken: VerifiedAccessToken;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

type BearerError = "invalid_request" | "invalid_token" | "insufficient_scope";

/** quoted-string (RFC 9110 §5.6.4): backslash-escape the two characters that need it. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`;

function challenge(res: Response, status: number, params: Record<string, string>, error?: BearerError): void {
  const all = error ? { ...params, error } : params;
  const rendered = Object.entries(all).map(([name, value]) => `${name}=${quoted(value)}`);
  res
    .status(status)
    .set("WWW-Authenticate", rendered.length > 0 ? `Bearer ${rendered.join(", ")}` : "Bearer")
    // A 401 or 403 depends on the Authorization header: never let a cache serve it to someone else.
    .set("Cache-Control", "no-store")
    .end();
}

/** Splits "Scheme credentials" at the first run of spaces; the scheme is case-insensitive. */
function bearerCredentials(req: Request): { present: false } | { present: true; token: string | undefined } {
  const header = req.get("authorization");
  if (header === undefined) return { present: false };
  const match = /^(\S+)(?: +(.*))?$/.exec(header);
  if (!match || match[1]!.toLowerCase() !== "bearer") return { present: false };
  const token = match[2];
  return { present: true, token: token !== undefined && B64TOKEN.test(token) ? token : undefined };
}

/** Verifies `Authorization: Bearer <token>` and stores the result on res.locals.accessToken. */
export function bearerAuth(verify: AccessTokenVerifier, options: BearerAuthOptions = {}): RequestHandler {
  const realm = { realm: options.realm ?? "api" };
  return async (req, res, next) => {
    const credentials = bearerCredentials(req);
    // RFC 6750 §3.1: a request without any credentials gets a challenge and no error code.
    if (!credentials.present) return challenge(res, 401, realm);
    if (credentials.token === undefined) return challenge(res, 400, realm, "invalid_request");
    let accessToken: VerifiedAccessToken;
    try {
      accessToken = await verify(credentials.token);
    } catch (error) {
      if (error instanceof InvalidTokenError) return challenge(res, 401, realm, "invalid_token");
      return next(error);
    }
    (res.locals as Partial<AuthenticatedLocals>).accessToken = accessToken;
    next();
  };
}

/** Lets the request through only when res.locals.accessToken has every one of the scopes. */
export function requireScopes(...scopes: string[]): RequestHandler {
  const needed = scopes.join(" ");
  return (_req, res, next) => {
    const token = (res.locals as Partial<AuthenticatedLocals>).accessToken;
    // Mounted without bearerAuth in front: refuse rather than let the route run unauthenticated.
    if (token === undefined) return challenge(res, 401, {});
    const granted = new Set(token.scopes);
    if (!scopes.every((scope) => granted.has(scope))) {
      return challenge(res, 403, { scope: needed }, "insufficient_scope");
    }
    next();
  };
}
