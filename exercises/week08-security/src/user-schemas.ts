// Kata: input-hardening (the schemas)
//
// Everything that arrives is hostile until a schema says otherwise, and a schema that lets
// unknown keys through is a mass-assignment hole waiting for tomorrow's column. Build the
// edge validation of the users API with zod, strict everywhere:
// - An unknown key is an error, never silently dropped and never filtered by a denylist:
//   `role`, `emailVerified`, `__proto__`, `constructor` or a key nobody thought of yet.
//   (z.object() strips unknown keys: use z.strictObject().)
// - parseSignup: email (a valid address, at most 254 characters, stored lower-cased),
//   displayName (1 to 64 characters after trimming, no control characters), password
//   (8 to 1024 characters; it goes to the hasher, never into an error message).
// - parseSettingsPatch: any of theme ("light" | "dark" | "system"), locale (a language tag
//   like "en" or "pt-BR"), notifications ({ email?, sms? }, booleans, strict too).
// - parseUserSearch, from a query string (values arrive as strings; a repeated parameter
//   arrives as an array and is an error): q (at most 64 characters), sort ("name" |
//   "created", default "name"), order ("asc" | "desc", default "asc"), limit (an integer
//   1 to 100, default 20).
// - Failures are FieldIssues: `pointer` is an RFC 6901 JSON Pointer in URI-fragment form
//   ("#/notifications/sms"; "#" for the whole input); an unknown key points at the key itself
//   ("#/role"), one issue per key. `detail` says what is wrong, and never repeats the value.
//
// Tests: tests/input-hardening.test.ts (npm run check week8 input-hardening).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

export interface SignupInput {
  readonly email: string;
  readonly displayName: string;
  readonly password: string;
}

export type Theme = "light" | "dark" | "system";

export interface SettingsPatch {
  readonly theme?: Theme;
  readonly locale?: string;
  readonly notifications?: { readonly email?: boolean; readonly sms?: boolean };
}

export interface UserSearch {
  readonly q?: string;
  readonly sort: "name" | "created";
  readonly order: "asc" | "desc";
  readonly limit: number;
}

/** One problem with one field, as the `errors` extension of an RFC 9457 problem carries it. */
export interface FieldIssue {
  /** "#/displayName", "#/notifications/sms", "#/role" (an unknown key), or "#". */
  readonly pointer: string;
  readonly detail: string;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

/** Validates a signup body (POST /users). */
export function parseSignup(body: unknown): Parsed<SignupInput> {
  // TODO: a z.strictObject, safeParse, and the issues turned into FieldIssues.
  throw new NotImplementedError("input-hardening");
}

/** Validates a settings patch (PATCH /users/:id/settings). */
export function parseSettingsPatch(body: unknown): Parsed<SettingsPatch> {
  // TODO: strict at every level, nested objects included.
  throw new NotImplementedError("input-hardening");
}

/** Validates the query of GET /users. */
export function parseUserSearch(query: unknown): Parsed<UserSearch> {
  // TODO: strings in, typed values and defaults out; an array for a parameter is an error.
  throw new NotImplementedError("input-hardening");
}
