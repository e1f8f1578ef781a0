// Kata: input-hardening (the queries)
//
// SQL injection happens when data becomes code: a value glued into the text of a query.
// Build the users repository over the table in users-schema.ts so that no input ever can:
// - Every value travels as a parameter ($1, $2, ...), never in the SQL text. A display name
//   of `x'); DROP TABLE users; --` is stored and read back as exactly that string.
// - Identifiers cannot be parameters: the sort column and direction come from a fixed map
//   (UserSearch's "name" | "created", "asc" | "desc"), never from the request's text.
// - search(q) matches display names containing q, case-insensitively, and q is literal text:
//   `%` and `_` (LIKE's wildcards) and `\` (its escape character) match only themselves, so a
//   search for "%" is not "everything". Ties in the order are broken by id.
// - updateSettings merges the patch into the stored settings (notifications key by key) in
//   one statement, so two concurrent patches cannot lose each other's changes; it answers
//   undefined for an unknown id.
// - A duplicate email (the unique index is case-insensitive) is a DuplicateEmailError.
// - An id that is not a string of 1 to 18 digits matches no user, without reaching the database.
//
// Tests: tests/input-hardening.test.ts (npm run check week8 input-hardening). Needs Postgres.
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { SettingsPatch, Theme, UserSearch } from "./user-schemas";

/** The part of pg.Pool this repository uses; a pg.Pool is one. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface Settings {
  readonly theme: Theme;
  readonly locale: string;
  readonly notifications: { readonly email: boolean; readonly sms: boolean };
}

/** A user as the API may show it: never the password hash. */
export interface UserRecord {
  /** The bigint id, as a string. */
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: string;
  readonly emailVerified: boolean;
  readonly settings: Settings;
  readonly createdAt: Date;
}

export interface NewUser {
  readonly email: string;
  readonly displayName: string;
  readonly passwordHash: string;
}

export class DuplicateEmailError extends Error {
  readonly code = "ERR_DUPLICATE_EMAIL";

  constructor() {
    super("a user with this email exists");
    this.name = "DuplicateEmailError";
  }
}

/** Parameterized queries over the users table. */
export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** Inserts a user (role and email_verified keep their defaults). */
  async create(user: NewUser): Promise<UserRecord> {
    // TODO: INSERT ... VALUES ($1, $2, $3) RETURNING ...; unique_violation (23505) -> DuplicateEmailError.
    throw new NotImplementedError("input-hardening");
  }

  /** The user with this id, or undefined. */
  async findById(id: string): Promise<UserRecord | undefined> {
    // TODO: check the id's shape, then one parameterized SELECT.
    throw new NotImplementedError("input-hardening");
  }

  /** Users whose display name contains q (literally), sorted as asked, at most limit. */
  async search(search: UserSearch): Promise<UserRecord[]> {
    // TODO: escape \ % _ in q, ILIKE ... ESCAPE, ORDER BY from an allow-list map, LIMIT $n.
    throw new NotImplementedError("input-hardening");
  }

  /** Merges the patch into the user's settings in one statement; undefined for an unknown id. */
  async updateSettings(id: string, patch: SettingsPatch): Promise<UserRecord | undefined> {
    // TODO: UPDATE ... SET settings = settings || ... (jsonb), the patch as a parameter.
    throw new NotImplementedError("input-hardening");
  }
}
