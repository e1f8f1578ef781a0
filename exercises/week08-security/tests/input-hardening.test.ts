import { createHash } from "node:crypto";
import type pg from "pg";
import request from "supertest";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { createUserApi, type UserApiOptions } from "../src/hardened-app";
import type { Queryable, UserRecord } from "../src/user-repository";
import { parseSettingsPatch, parseSignup, parseUserSearch } from "../src/user-schemas";
import { createUsersSchema } from "../src/users-schema";

const postgres = usePostgres();
let pool: pg.Pool;
beforeAll(async () => {
  pool = postgres.pool({ max: 4 });
  await createUsersSchema(pool);
});

// A stand-in for the password-hashing kata: this kata is about the edge, not the hash.
const fakeHasher = {
  hash: async (password: string) => `sha256:${createHash("sha256").update(password).digest("hex")}`,
};
const api = (overrides: Partial<UserApiOptions> = {}) =>
  createUserApi({ db: pool, passwordHasher: fakeHasher, ...overrides });

let emails = 0;
const signup = (overrides: Record<string, unknown> = {}) => ({
  email: `user${++emails}@example.com`,
  displayName: `User ${emails}`,
  password: "correct horse battery staple",
  ...overrides,
});
const postJson = (app: ReturnType<typeof api>, path: string, raw: string) =>
  request(app).post(path).set("content-type", "application/json").send(raw);
const patchJson = (app: ReturnType<typeof api>, path: string, raw: string) =>
  request(app).patch(path).set("content-type", "application/json").send(raw);

async function create(app: ReturnType<typeof api>, overrides: Record<string, unknown> = {}): Promise<UserRecord> {
  const res = await request(app).post("/users").send(signup(overrides));
  expect(res.status, `POST /users ${JSON.stringify(overrides)} should create a user: ${JSON.stringify(res.body)}`).toBe(
    201,
  );
  return res.body as UserRecord;
}

const userCount = async () =>
  Number((await postgres.query<{ n: string }>("SELECT count(*) AS n FROM users")).rows[0]!.n);

/** An RFC 9457 problem: the media type, and type, title and status in the body. */
function expectProblem(res: request.Response, status: number, why = `expected a ${status} problem`): void {
  expect(res.status, why).toBe(status);
  expect(res.headers["content-type"], "RFC 9457: errors are application/problem+json").toMatch(
    /^application\/problem\+json/,
  );
  expect(typeof res.body.type, "a problem has a type (a URI, about:blank by default)").toBe("string");
  expect(typeof res.body.title === "string" && res.body.title.length > 0, "and a short human-readable title").toBe(
    true,
  );
  expect(res.body.status, "and the HTTP status as a number").toBe(status);
}
const pointers = (res: request.Response) =>
  ((res.body.errors ?? []) as { pointer: string }[]).map((e) => e.pointer).sort();

afterEach(() => {
  // A polluted prototype would leak into every later test: clean up, then the tests below
  // can still say whether it happened.
  for (const key of ["polluted", "role", "isAdmin"]) delete (Object.prototype as Record<string, unknown>)[key];
});

describe("strict schemas at the edge: unknown keys are errors, not silently dropped", () => {
  it("creates a user from a valid signup, lower-casing the email and never returning the password hash", async () => {
    const app = api();
    const res = await request(app)
      .post("/users")
      .send(signup({ email: "Ada.Lovelace@Example.COM", displayName: "  Ada  " }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: "ada.lovelace@example.com",
      displayName: "Ada",
      role: "member",
      emailVerified: false,
    });
    expect(JSON.stringify(res.body), "no password and no hash may ever leave the API").not.toMatch(/password|sha256:/i);
    const { rows } = await postgres.query<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE email = $1",
      ["ada.lovelace@example.com"],
    );
    expect(rows[0]?.password_hash, "only the hasher's output is stored").toBe(
      await fakeHasher.hash("correct horse battery staple"),
    );
  });

  it("refuses mass assignment of role or emailVerified with a 422 pointing at the key; creates nothing", async () => {
    const app = api();
    const before = await userCount();
    for (const extra of [{ role: "admin" }, { emailVerified: true }, { role: "admin", emailVerified: true }]) {
      const res = await request(app).post("/users").send(signup(extra));
      expectProblem(
        res,
        422,
        `${JSON.stringify(extra)} in a signup: an unknown key must be refused, not dropped and not written`,
      );
      expect(pointers(res), `${JSON.stringify(extra)}: one issue per unknown key, pointing at it`).toEqual(
        Object.keys(extra)
          .map((k) => `#/${k}`)
          .sort(),
      );
    }
    expect(await userCount(), "a refused request must not create a user with the field stripped").toBe(before);
  });

  it("refuses a key no denylist would know about, because tomorrow's column is today's hole", async () => {
    const res = await request(api())
      .post("/users")
      .send(signup({ plan: "enterprise", creditsCents: 1_000_000 }));
    expectProblem(res, 422, "plan and creditsCents are on no denylist: only a strict schema refuses them");
    expect(
      pointers(res),
      "an allow-list (a strict schema) refuses what nobody thought of; a denylist lets it through",
    ).toEqual(["#/creditsCents", "#/plan"]);
  });

  it("reports every invalid field in the errors extension, as JSON Pointers", async () => {
    const res = await request(api()).post("/users").send({ email: "not-an-email", displayName: "", password: "short" });
    expectProblem(res, 422);
    expect(pointers(res)).toEqual(["#/displayName", "#/email", "#/password"]);
    for (const issue of res.body.errors) {
      expect(typeof issue.detail === "string" && issue.detail.length > 0, "each issue says what is wrong").toBe(true);
    }
  });

  it("enforces the length limits: email 254, displayName 64, password 1024, q 64", async () => {
    const longEmail = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(60)}.com`;
    const cases: [Record<string, unknown>, string][] = [
      [{ email: longEmail }, "#/email"],
      [{ displayName: "x".repeat(65) }, "#/displayName"],
      [{ password: "p".repeat(1025) }, "#/password"],
    ];
    for (const [fields, pointer] of cases) {
      const parsed = parseSignup(signup(fields));
      expect(!parsed.ok && parsed.issues.map((i) => i.pointer), `${pointer} is over its limit`).toEqual([pointer]);
    }
    expect(parseSignup(signup({ displayName: "x".repeat(64), password: "p".repeat(1024) })).ok, "at the limits").toBe(
      true,
    );
    expect(parseUserSearch({ q: "q".repeat(65) }).ok, "q over 64 characters").toBe(false);
    expect(parseSettingsPatch({ locale: "en_US" }).ok, "a locale is a language tag such as en-US").toBe(false);
  });

  it("escapes an unknown key's pointer as RFC 6901 says: ~ as ~0 and / as ~1", () => {
    const parsed = parseSettingsPatch({ "a/b~c": 1 });
    expect(!parsed.ok && parsed.issues.map((i) => i.pointer)).toEqual(["#/a~1b~0c"]);
  });

  it("refuses a display name with control or invisible characters", async () => {
    for (const displayName of ["Ada\u0000", "Ada\nAdmin", "\u202EnimdA"]) {
      expect(
        pointers(await request(api()).post("/users").send(signup({ displayName }))),
        JSON.stringify(displayName),
      ).toEqual(["#/displayName"]);
    }
  });

  it("validates nested objects strictly too", async () => {
    const parsed = parseSettingsPatch({ theme: "dark", notifications: { sms: true, push: true } });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues.map((i) => i.pointer), "strict at every level: the nested unknown key").toEqual([
      "#/notifications/push",
    ]);
    expect(parseSettingsPatch({ theme: "dark", notifications: { sms: true } })).toEqual({
      ok: true,
      value: { theme: "dark", notifications: { sms: true } },
    });
  });

  it("refuses a body that is not an object at all, pointing at the whole input", () => {
    for (const body of [null, [], "a string", 42]) {
      const parsed = parseSignup(body);
      expect(!parsed.ok && parsed.issues.map((i) => i.pointer), JSON.stringify(body)).toEqual(["#"]);
    }
  });

  it("parses the search query into typed values with defaults, and refuses repeated or unknown parameters", () => {
    expect(parseUserSearch({})).toEqual({ ok: true, value: { sort: "name", order: "asc", limit: 20 } });
    expect(parseUserSearch({ q: "ada", sort: "created", order: "desc", limit: "5" })).toEqual({
      ok: true,
      value: { q: "ada", sort: "created", order: "desc", limit: 5 },
    });
    for (const query of [
      { sort: ["name", "created"] },
      { limit: "0" },
      { limit: "5e1" },
      { sort: "display_name" },
      { admin: "1" },
    ]) {
      expect(parseUserSearch(query).ok, JSON.stringify(query)).toBe(false);
    }
  });
});

describe("prototype pollution: __proto__ and constructor are just unknown keys", () => {
  it("refuses a __proto__ key in a signup and leaves Object.prototype alone", async () => {
    const app = api();
    const raw = JSON.stringify(signup()).replace(/}$/, ',"__proto__":{"role":"admin","isAdmin":true}}');
    const res = await postJson(app, "/users", raw);
    expectProblem(res, 422, "__proto__ is a key like any other, and an unknown one");
    expect(pointers(res)).toEqual(["#/__proto__"]);
    expect(
      ({} as Record<string, unknown>).isAdmin,
      "every object in the process would now be an admin",
    ).toBeUndefined();
  });

  it("refuses __proto__ and constructor.prototype in a settings patch, and pollutes nothing", async () => {
    const app = api();
    const user = await create(app);
    for (const raw of [
      '{"notifications":{"__proto__":{"polluted":"yes"}}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"__proto__":{"polluted":"yes"}}',
    ]) {
      const res = await patchJson(app, `/users/${user.id}/settings`, raw);
      expectProblem(res, 422, `${raw}: strict at every level, or the merge walks into the prototype`);
      expect(
        ({} as Record<string, unknown>).polluted,
        `${raw}: a merge that follows these keys writes into Object.prototype`,
      ).toBeUndefined();
    }
    const stored = await request(app).get(`/users/${user.id}`);
    expect(stored.body.settings, "nothing was merged").toEqual({
      theme: "system",
      locale: "en",
      notifications: { email: true, sms: false },
    });
  });

  it("merges a valid patch key by key, notifications included", async () => {
    const app = api();
    const user = await create(app);
    const first = await request(app)
      .patch(`/users/${user.id}/settings`)
      .send({ theme: "dark", notifications: { sms: true } });
    expect(first.status).toBe(200);
    expect(first.body.settings, "sms changes, email stays").toEqual({
      theme: "dark",
      locale: "en",
      notifications: { email: true, sms: true },
    });
    const second = await request(app).patch(`/users/${user.id}/settings`).send({ locale: "pt-BR" });
    expect(second.body.settings).toEqual({ theme: "dark", locale: "pt-BR", notifications: { email: true, sms: true } });
    expect((await request(app).patch("/users/999999999/settings").send({ theme: "dark" })).status).toBe(404);
  });
});

describe("parameterized queries: an injection payload is stored as data", () => {
  it("stores and returns a display name full of SQL exactly as sent, and the table survives", async () => {
    const app = api();
    const payload = "Robert'); DROP TABLE users; --";
    const user = await create(app, { displayName: payload });
    const fetched = await request(app).get(`/users/${user.id}`);
    expect(fetched.body.displayName, "the payload is data: it comes back byte for byte").toBe(payload);
    expect(await userCount(), "and it never ran: the table is still there").toBeGreaterThan(0);
  });

  it("finds nothing for a search of ' OR '1'='1", async () => {
    const app = api();
    await create(app);
    const res = await request(app).get("/users").query({ q: "' OR '1'='1" });
    expect(res.status).toBe(200);
    expect(res.body.items, "a value glued into SQL text turns into a condition that matches every row").toEqual([]);
  });

  it("matches % and _ literally: a search for '%' is not a search for everything", async () => {
    const app = api();
    const percent = await create(app, { displayName: "100% Coverage" });
    const underscore = await create(app, { displayName: "snake_case" });
    const backslash = await create(app, { displayName: "back\\slash" });
    const ids = async (q: string) =>
      ((await request(app).get("/users").query({ q, limit: "100" })).body.items as UserRecord[]).map((u) => u.id);
    expect(await ids("%"), "% is LIKE's wildcard: escape it or it matches every name").toEqual([percent.id]);
    expect(await ids("_"), "_ is LIKE's one-character wildcard").toEqual([underscore.id]);
    expect(await ids("\\"), "\\ is LIKE's escape character").toEqual([backslash.id]);
    expect(await ids("coverAGE"), "case-insensitive").toEqual([percent.id]);
  });

  it("sorts only by the allow-listed columns, and refuses anything else with a 422", async () => {
    const app = api();
    const tag = `sort-${++emails}`;
    const b = await create(app, { displayName: `${tag} b` });
    const a = await create(app, { displayName: `${tag} a` });
    const byName = await request(app).get("/users").query({ q: tag, sort: "name" });
    expect((byName.body.items as UserRecord[]).map((u) => u.id)).toEqual([a.id, b.id]);
    const newestFirst = await request(app).get("/users").query({ q: tag, sort: "created", order: "desc" });
    expect((newestFirst.body.items as UserRecord[]).map((u) => u.id)).toEqual([a.id, b.id]);
    const oldestFirst = await request(app).get("/users").query({ q: tag, sort: "created", order: "asc", limit: "1" });
    expect(
      (oldestFirst.body.items as UserRecord[]).map((u) => u.id),
      "limit",
    ).toEqual([b.id]);
    const injected = await request(app).get("/users").query({ sort: "display_name; DROP TABLE users" });
    expectProblem(injected, 422);
    expect(pointers(injected)).toEqual(["#/sort"]);
    expect(
      pointers(await request(app).get("/users?sort=name&sort=created")),
      "a repeated parameter arrives as an array",
    ).toEqual(["#/sort"]);
  });

  it("answers 404 for an id that is not a number, and for a number that is no user", async () => {
    const app = api();
    expectProblem(await request(app).get("/users/1%20OR%201=1"), 404);
    expectProblem(await request(app).get("/users/99999999999999999999999"), 404);
    expectProblem(await request(app).get("/users/123456789"), 404);
  });

  it("answers 409 for an email that exists in another case", async () => {
    const app = api();
    const email = `dup${++emails}@example.com`;
    await create(app, { email });
    expectProblem(
      await request(app)
        .post("/users")
        .send(signup({ email: email.toUpperCase() })),
      409,
    );
  });
});

describe("limits and problems that echo nothing", () => {
  it("refuses a body over 16 KiB with 413, and honours maxBodyBytes", async () => {
    const big = JSON.stringify(signup({ displayName: "x".repeat(17 * 1024) }));
    expectProblem(
      await postJson(api(), "/users", big),
      413,
      "17 KiB is over the 16 KiB default: 413 before any parsing",
    );
    expectProblem(
      await postJson(api({ maxBodyBytes: 200 }), "/users", JSON.stringify(signup({ displayName: "y".repeat(300) }))),
      413,
    );
  });

  it("refuses a body that is not application/json with 415", async () => {
    const res = await request(api()).post("/users").set("content-type", "text/plain").send("email=a@b.c");
    expectProblem(res, 415, "text/plain: only application/json is parsed, anything else is 415 Unsupported Media Type");
    const form = await request(api()).post("/users").type("form").send(signup());
    expectProblem(form, 415, "a form body: 415");
    const latin1 = await request(api())
      .post("/users")
      .set("content-type", "application/json; charset=latin1")
      .send("{}");
    expectProblem(latin1, 415, "JSON in a charset the parser does not take: 415, not a 500");
    const encoded = await request(api())
      .post("/users")
      .set("content-type", "application/json")
      .set("content-encoding", "x-unknown")
      .send("{}");
    expectProblem(encoded, 415, "a Content-Encoding the parser does not take: 415, not a 500");
  });

  it("answers malformed JSON with 400 without quoting it back", async () => {
    const res = await postJson(api(), "/users", "hunter2-secret");
    expectProblem(res, 400, "malformed JSON is a 400");
    expect(
      res.text,
      "Node's JSON.parse message quotes the input: passing it on echoes what was sent, password included",
    ).not.toContain("hunter2");
  });

  it("never repeats a password in a validation problem", async () => {
    const secret = "correct-horse-battery-SECRET-42";
    const res = await request(api())
      .post("/users")
      .send({ email: "broken", displayName: "Ada", password: secret, extra: secret });
    expectProblem(res, 422);
    expect(res.text, "a problem describes what is wrong, it does not repeat the input").not.toContain(secret);
  });

  it("answers a database failure with a bare 500 and hands the error to onError", async () => {
    const leaked = "password authentication failed for user app: postgres://app:s3cr3t@10.0.0.5/users";
    const broken: Queryable = { query: () => Promise.reject(new Error(leaked)) };
    const errors: unknown[] = [];
    const res = await request(api({ db: broken, onError: (e) => void errors.push(e) }))
      .post("/users")
      .send(signup());
    expectProblem(res, 500);
    expect(res.text, "the client learns nothing about the database, its address or its password").not.toMatch(
      /s3cr3t|10\.0\.0\.5|postgres|at .*\.ts/,
    );
    expect((errors[0] as Error | undefined)?.message, "the operator still gets the real error").toBe(leaked);
  });

  it("answers an unknown route or user with a 404 problem, and does not announce Express", async () => {
    const res = await request(api()).get("/admin");
    expectProblem(res, 404);
    expect(res.headers["x-powered-by"], "X-Powered-By tells an attacker which exploits to try first").toBeUndefined();
    expectProblem(await request(api()).patch("/users/abc/settings").send({ theme: "dark" }), 404);
  });
});
