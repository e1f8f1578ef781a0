// Reference solution of the input-hardening kata, the queries: parameters for every value.

import type { SettingsPatch, Theme, UserSearch } from "./user-schemas";

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

export interface UserRecord {
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

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: string;
  email_verified: boolean;
  settings: Settings;
  created_at: Date;
}

// Never password_hash: what a query does not select cannot leak through a response.
const COLUMNS = "id::text AS id, email, display_name, role, email_verified, settings, created_at";

// Identifiers cannot be parameters, so they come from these maps and nowhere else.
const SORT_COLUMNS: Record<UserSearch["sort"], string> = { name: "display_name", created: "created_at" };
const DIRECTIONS: Record<UserSearch["order"], string> = { asc: "ASC", desc: "DESC" };

const ID = /^\d{1,18}$/;
const UNIQUE_VIOLATION = "23505";

const toRecord = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  role: row.role,
  emailVerified: row.email_verified,
  settings: row.settings,
  createdAt: row.created_at,
});

/** LIKE treats % and _ as wildcards and \ as its escape: escape all three to match q literally. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, "\\$&");

/** Parameterized queries over the users table. */
export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** Inserts a user (role and email_verified keep their defaults). */
  async create(user: NewUser): Promise<UserRecord> {
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [user.email, user.displayName, user.passwordHash],
      );
      return toRecord(rows[0]!);
    } catch (error) {
      if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) throw new DuplicateEmailError();
      throw error;
    }
  }

  /** The user with this id, or undefined. */
  async findById(id: string): Promise<UserRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const { rows } = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  /** Users whose display name contains q (literally), sorted as asked, at most limit. */
  async search(search: UserSearch): Promise<UserRecord[]> {
    const column = SORT_COLUMNS[search.sort];
    const direction = DIRECTIONS[search.order];
    const pattern = search.q === undefined ? null : `%${likeLiteral(search.q)}%`;
    const { rows } = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users
        WHERE $1::text IS NULL OR display_name ILIKE $1 ESCAPE '\\'
        ORDER BY ${column} ${direction}, id ${direction}
        LIMIT $2`,
      [pattern, search.limit],
    );
    return rows.map(toRecord);
  }

  /** Merges the patch into the user's settings in one statement; undefined for an unknown id. */
  async updateSettings(id: string, patch: SettingsPatch): Promise<UserRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const { notifications, ...topLevel } = patch;
    // jsonb || merges one level; notifications is merged on its own, so a patch of
    // { notifications: { sms: true } } keeps email. One UPDATE: no read-modify-write race.
    const { rows } = await this.db.query<UserRow>(
      `UPDATE users
          SET settings = settings || $2::jsonb
                || jsonb_build_object('notifications', coalesce(settings -> 'notifications', '{}'::jsonb) || $3::jsonb)
        WHERE id = $1
      RETURNING ${COLUMNS}`,
      [id, JSON.stringify(topLevel), JSON.stringify(notifications ?? {})],
    );
    return rows[0] && toRecord(rows[0]);
  }
}
