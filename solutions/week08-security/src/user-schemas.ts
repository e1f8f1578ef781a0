// Reference solution of the input-hardening kata, the schemas: strict zod at every level.

import { z } from "zod";

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

export interface FieldIssue {
  readonly pointer: string;
  readonly detail: string;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

// Control and format characters: NUL, line breaks, zero-width joiners, bidi overrides that
// make a name render as something else in an admin's table.
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

const signupSchema = z.strictObject({
  email: z
    .email()
    .max(254)
    .transform((email) => email.toLowerCase()),
  displayName: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((name) => !INVISIBLE.test(name), "must not contain control or invisible characters"),
  password: z.string().min(8).max(1024),
});

const settingsPatchSchema = z.strictObject({
  theme: z.enum(["light", "dark", "system"]).optional(),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(?:-[A-Z]{2})?$/, "must be a language tag such as en or pt-BR")
    .optional(),
  notifications: z.strictObject({ email: z.boolean().optional(), sms: z.boolean().optional() }).optional(),
});

// Query values are strings (or arrays, when a parameter repeats, which is an error here).
const userSearchSchema = z.strictObject({
  q: z.string().max(64).optional(),
  sort: z.enum(["name", "created"]).default("name"),
  order: z.enum(["asc", "desc"]).default("asc"),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.int().min(1).max(100))
    .default(20),
});

/** RFC 6901 in URI-fragment form: ~ and / escaped inside a segment, then percent-encoded. */
function pointerOf(path: readonly PropertyKey[]): string {
  const segments = path.map((segment) => encodeURIComponent(String(segment).replace(/~/g, "~0").replace(/\//g, "~1")));
  return segments.length === 0 ? "#" : `#/${segments.join("/")}`;
}

/** zod issues as FieldIssues: one per unknown key, pointing at that key. zod's messages never quote the input. */
function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ pointer: pointerOf([...issue.path, key]), detail: "is not a known field" }))
      : [{ pointer: pointerOf(issue.path), detail: issue.message }],
  );
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const result = schema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: issuesOf(result.error) };
}

/** Validates a signup body (POST /users). */
export function parseSignup(body: unknown): Parsed<SignupInput> {
  return parseWith(signupSchema, body);
}

/** Validates a settings patch (PATCH /users/:id/settings). */
export function parseSettingsPatch(body: unknown): Parsed<SettingsPatch> {
  return parseWith(settingsPatchSchema, body);
}

/** Validates the query of GET /users. */
export function parseUserSearch(query: unknown): Parsed<UserSearch> {
  return parseWith(userSearchSchema, query);
}
