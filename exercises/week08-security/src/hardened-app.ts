// Kata: input-hardening (the HTTP edge)
//
// The users API, hardened at the edge, where every request is still just bytes. Build it on
// the schemas and the repository of this kata:
//   POST  /users                 201 the UserRecord | 409 duplicate email | 422
//   GET   /users?q&sort&order&limit  200 { items: UserRecord[] } | 422
//   GET   /users/:id             200 the UserRecord | 404
//   PATCH /users/:id/settings    200 the UserRecord | 404 | 422
// - Bodies: JSON only (anything else is 415), at most maxBodyBytes (default 16 KiB: 413),
//   parsed once; malformed JSON is 400.
// - Every error is an RFC 9457 problem: Content-Type application/problem+json, a body with
//   type, title and status (the HTTP status, as a number). A validation failure is 422 with
//   an `errors` extension: the FieldIssues of the schema ({ pointer, detail }).
// - A problem never echoes what it was sent or what broke: not the body, not the JSON
//   parser's message (it quotes the input), not a database error or a stack trace. A
//   500 says "something went wrong" and nothing else; the error itself goes to onError.
// - The password goes to passwordHasher.hash() and only the hash is stored.
// - Nothing a client sends touches Object.prototype: a `__proto__` or `constructor` key
//   is an unknown key, and no merge of attacker-controlled objects happens in JavaScript.
//
// Tests: tests/input-hardening.test.ts (npm run check week8 input-hardening). Needs Postgres.
// Keep the exported names and signatures: the tests import them.

import type { Express } from "express";
import { NotImplementedError } from "#kata";
import type { Queryable } from "./user-repository";

export interface UserApiOptions {
  /** Where the users table lives: a pg.Pool in production. */
  readonly db: Queryable;
  /** Turns a password into what is stored: the password-hashing kata's PasswordHasher fits. */
  readonly passwordHasher: { hash(password: string): Promise<string> };
  /** Largest accepted body in bytes. Default 16384. */
  readonly maxBodyBytes?: number;
  /** Where an unexpected error goes (the client only gets a 500). Default console.error. */
  readonly onError?: (error: unknown) => void;
}

/** The users API: strict schemas, parameterized queries and RFC 9457 problems. */
export function createUserApi(options: UserApiOptions): Express {
  // TODO: express(), the JSON body parser with a limit, a 415 check, the four routes,
  // a 404 for the rest and an error handler that turns everything into problems.
  throw new NotImplementedError("input-hardening");
}
