import type { Request } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import { createExpenseApi } from "../src/expense-api";
import { type Action, authorize, mayCreate, readableFields, viewOf, writableFields } from "../src/expense-policy";
import { type Expense, ExpenseStore, type Subject } from "../src/expenses";

// Acme (t-acme) and Globex (t-globex) share the API. Mallory is a full admin, at Globex.
const alice: Subject = { userId: "alice", tenantId: "t-acme", roles: ["member"] };
const bob: Subject = { userId: "bob", tenantId: "t-acme", roles: ["member"] };
const carol: Subject = { userId: "carol", tenantId: "t-acme", roles: ["member", "approver"] };
const dave: Subject = { userId: "dave", tenantId: "t-acme", roles: ["admin"] };
const erin: Subject = { userId: "erin", tenantId: "t-acme", roles: ["auditor"] };
const nobody: Subject = { userId: "nobody", tenantId: "t-acme", roles: [] };
const impostor: Subject = { userId: "imp", tenantId: "t-acme", roles: ["superuser", "root"] };
const mallory: Subject = { userId: "mallory", tenantId: "t-globex", roles: ["member", "approver", "admin", "auditor"] };
const subjects = { alice, bob, carol, dave, erin, nobody, impostor, mallory };

const base = { reviewerNote: null, riskScore: 42, createdAt: "2026-01-01T09:00:00.000Z" } as const;
const expenses: Record<string, Expense> = {
  aliceDraft: {
    ...base,
    id: "exp-1",
    tenantId: "t-acme",
    ownerId: "alice",
    description: "Taxi",
    amountCents: 4_200,
    status: "draft",
  },
  aliceSubmitted: {
    ...base,
    id: "exp-2",
    tenantId: "t-acme",
    ownerId: "alice",
    description: "Hotel",
    amountCents: 31_000,
    status: "submitted",
  },
  carolSubmitted: {
    ...base,
    id: "exp-3",
    tenantId: "t-acme",
    ownerId: "carol",
    description: "Train",
    amountCents: 8_900,
    status: "submitted",
  },
  globexDraft: {
    ...base,
    id: "exp-9",
    tenantId: "t-globex",
    ownerId: "mallory",
    description: "Lunch",
    amountCents: 2_500,
    status: "draft",
  },
};

type Expected = "allow" | 403 | 404;
// subject, expense, action, expected: written out by hand, never computed from the rules.
const MATRIX: [keyof typeof subjects, keyof typeof expenses, Action, Expected][] = [
  ["alice", "aliceDraft", "expense:read", "allow"],
  ["alice", "carolSubmitted", "expense:read", 404],
  ["bob", "aliceDraft", "expense:read", 404],
  ["carol", "aliceDraft", "expense:read", "allow"],
  ["dave", "aliceDraft", "expense:read", "allow"],
  ["erin", "aliceDraft", "expense:read", "allow"],
  ["nobody", "aliceDraft", "expense:read", 404],
  ["impostor", "aliceDraft", "expense:read", 404],
  ["mallory", "aliceDraft", "expense:read", 404],
  ["alice", "globexDraft", "expense:read", 404],
  ["alice", "aliceDraft", "expense:update", "allow"],
  ["alice", "aliceSubmitted", "expense:update", 403],
  ["bob", "aliceDraft", "expense:update", 404],
  ["carol", "aliceDraft", "expense:update", 403],
  ["dave", "aliceDraft", "expense:update", 403],
  ["erin", "aliceDraft", "expense:update", 403],
  ["mallory", "aliceDraft", "expense:update", 404],
  ["carol", "aliceSubmitted", "expense:decide", "allow"],
  ["carol", "carolSubmitted", "expense:decide", 403],
  ["dave", "aliceSubmitted", "expense:decide", "allow"],
  ["dave", "carolSubmitted", "expense:decide", "allow"],
  ["alice", "aliceSubmitted", "expense:decide", 403],
  ["erin", "aliceSubmitted", "expense:decide", 403],
  ["bob", "aliceSubmitted", "expense:decide", 404],
  ["mallory", "aliceSubmitted", "expense:decide", 404],
  ["mallory", "globexDraft", "expense:decide", 403],
  ["alice", "aliceDraft", "expense:delete", "allow"],
  ["alice", "aliceSubmitted", "expense:delete", 403],
  ["dave", "aliceSubmitted", "expense:delete", "allow"],
  ["carol", "aliceDraft", "expense:delete", 403],
  ["erin", "aliceDraft", "expense:delete", 403],
  ["bob", "aliceDraft", "expense:delete", 404],
  ["mallory", "aliceDraft", "expense:delete", 404],
  ["mallory", "globexDraft", "expense:delete", "allow"],
];

const REASONS: Record<string, string> = {
  allow: "a rule grants it",
  "403": "they may see the expense, but no rule grants this action",
  "404": "they may not even know it exists: another tenant's, or a colleague's for a plain member",
};

describe("authorize: a subject × resource × action table", () => {
  it.each(MATRIX)("%s on %s, %s: %s", (subjectName, expenseName, action, expected) => {
    const decision = authorize(subjects[subjectName], action, expenses[expenseName]!);
    const got: Expected = decision.allowed ? "allow" : decision.status;
    expect(got, `${subjectName} ${action} ${expenseName}: ${REASONS[String(expected)]}`).toBe(expected);
  });

  it("denies an action it has no rule for, even to an admin", () => {
    const decision = authorize(dave, "expense:export" as Action, expenses.aliceDraft!);
    expect(decision.allowed, "deny by default: a new action is closed until a rule opens it").toBe(false);
  });

  it("lets members, and only members, file expenses", () => {
    expect(
      [alice, carol, dave, erin, nobody, impostor].map(mayCreate),
      "an auditor changes nothing; unknown roles grant nothing",
    ).toEqual([true, true, false, false, false, false]);
  });
});

describe("property-level authorization (OWASP API3)", () => {
  it("shows riskScore to approvers, admins and auditors, and to no member, not even the owner", () => {
    expect(
      readableFields(alice, expenses.aliceDraft!),
      "the fraud score is for reviewers: a member may not see it",
    ).not.toContain("riskScore");
    for (const reviewer of [carol, dave, erin]) {
      expect(readableFields(reviewer, expenses.aliceDraft!), `${reviewer.userId} reviews expenses`).toContain(
        "riskScore",
      );
    }
    expect(viewOf(alice, expenses.aliceDraft!)).toEqual({
      id: "exp-1",
      tenantId: "t-acme",
      ownerId: "alice",
      description: "Taxi",
      amountCents: 4_200,
      status: "draft",
      reviewerNote: null,
      createdAt: "2026-01-01T09:00:00.000Z",
    });
    expect(viewOf(erin, expenses.aliceDraft!).riskScore).toBe(42);
  });

  it("lets update and create write description and amountCents, decide status and reviewerNote, nothing else", () => {
    expect([...writableFields("expense:update")].sort()).toEqual(["amountCents", "description"]);
    expect([...writableFields("expense:create")].sort()).toEqual(["amountCents", "description"]);
    expect([...writableFields("expense:decide")].sort()).toEqual(["reviewerNote", "status"]);
  });
});

function api() {
  const store = new ExpenseStore(Object.values(expenses));
  const byHeader = (req: Request) => subjects[req.get("x-test-user") as keyof typeof subjects];
  let ids = 0;
  const app = createExpenseApi({
    store,
    authenticate: byHeader,
    clock: manualClock(Date.UTC(2026, 0, 2)),
    newId: () => `new-${++ids}`,
  });
  const as = (who: keyof typeof subjects) => ({
    get: (path: string) => request(app).get(path).set("x-test-user", who),
    post: (path: string, body?: object) => request(app).post(path).set("x-test-user", who).send(body),
    patch: (path: string, body: object) => request(app).patch(path).set("x-test-user", who).send(body),
    delete: (path: string) => request(app).delete(path).set("x-test-user", who),
  });
  return { app, store, as };
}

describe("object-level checks on every route (BOLA)", () => {
  it("answers another tenant's expense with 404 on every method, and changes nothing", async () => {
    const { store, as } = api();
    const before = store.all();
    const attempts = {
      GET: await as("mallory").get("/expenses/exp-2"),
      PATCH: await as("mallory").patch("/expenses/exp-2", { description: "mine now" }),
      "POST decision": await as("mallory").post("/expenses/exp-2/decision", { status: "approved" }),
      DELETE: await as("mallory").delete("/expenses/exp-2"),
    };
    for (const [method, res] of Object.entries(attempts)) {
      expect(
        res.status,
        `${method} /expenses/exp-2 by Globex's admin: a check on reads only is walked around with a write`,
      ).toBe(404);
    }
    expect(store.all(), "not one byte of Acme's data may change").toEqual(before);
  });

  it("makes another tenant's 404 indistinguishable from a missing id", async () => {
    const { as } = api();
    const foreign = await as("mallory").get("/expenses/exp-1");
    const missing = await as("mallory").get("/expenses/exp-does-not-exist");
    expect(foreign.status).toBe(404);
    expect(foreign.body, "a different body or detail tells the attacker which ids are real").toEqual(missing.body);
    expect(foreign.headers["content-type"]).toBe(missing.headers["content-type"]);
  });

  it("lists what the subject may read: a member's own, an approver's tenant, never another tenant", async () => {
    const { as } = api();
    const ids = async (who: keyof typeof subjects) =>
      ((await as(who).get("/expenses")).body.items as Expense[]).map((e) => e.id).sort();
    expect(await ids("alice")).toEqual(["exp-1", "exp-2"]);
    expect(await ids("bob")).toEqual([]);
    expect(await ids("carol")).toEqual(["exp-1", "exp-2", "exp-3"]);
    expect(await ids("mallory"), "the list is a read too").toEqual(["exp-9"]);
  });

  it("answers malformed JSON with a 400 problem and an unknown route with a 404 problem", async () => {
    const { app } = api();
    const malformed = await request(app)
      .patch("/expenses/exp-1")
      .set("x-test-user", "alice")
      .set("content-type", "application/json")
      .send('{"description": ');
    expect(malformed.status, "a body that is not JSON is the client's mistake").toBe(400);
    expect(malformed.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const unknown = await request(app).get("/reports").set("x-test-user", "alice");
    expect(unknown.status).toBe(404);
    expect(unknown.body.status, "errors are RFC 9457 problems, not Express's HTML page").toBe(404);
  });

  it("answers 401 without a subject", async () => {
    const { app } = api();
    expect((await request(app).get("/expenses")).status).toBe(401);
    expect((await request(app).get("/expenses/exp-1")).status).toBe(401);
    expect((await request(app).delete("/expenses/exp-1")).status).toBe(401);
  });

  it("answers 403 when the subject may read but not act, and 404 for a colleague's expense", async () => {
    const { as } = api();
    expect((await as("erin").delete("/expenses/exp-1")).status, "an auditor sees it but may not delete it").toBe(403);
    expect(
      (await as("bob").patch("/expenses/exp-1", { description: "x" })).status,
      "bob may not know alice's expense exists",
    ).toBe(404);
    expect(
      (await as("carol").post("/expenses/exp-3/decision", { status: "approved" })).status,
      "no approving your own claim",
    ).toBe(403);
  });

  it("lets the rules through: the owner edits a draft, an approver decides, an admin deletes", async () => {
    const { store, as } = api();
    const edited = await as("alice").patch("/expenses/exp-1", {
      description: "Taxi to the airport",
      amountCents: 4_500,
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: "exp-1", description: "Taxi to the airport", amountCents: 4_500 });
    const decided = await as("carol").post("/expenses/exp-2/decision", { status: "approved", reviewerNote: "ok" });
    expect(decided.status).toBe(200);
    expect(store.get("exp-2")).toMatchObject({ status: "approved", reviewerNote: "ok" });
    expect((await as("dave").delete("/expenses/exp-3")).status).toBe(204);
    expect(store.get("exp-3")).toBeUndefined();
  });

  it("answers 400 for a new expense without an amount or a decision that is none, 413 for a huge body", async () => {
    const { as } = api();
    expect((await as("alice").post("/expenses", { description: "Parking" })).status, "amountCents is required").toBe(
      400,
    );
    expect((await as("alice").post("/expenses", { amountCents: 100 })).status, "description is required").toBe(400);
    const undecided = await as("carol").post("/expenses/exp-2/decision", { status: "draft" });
    expect(undecided.status, "a decision is approved or rejected").toBe(400);
    const huge = await as("alice").post("/expenses", { description: "x".repeat(200_000), amountCents: 1 });
    expect(huge.status, "a body over the limit is refused before it is parsed").toBe(413);
  });

  it("answers 409 for a decision on an expense that is not submitted", async () => {
    const { as } = api();
    expect((await as("carol").post("/expenses/exp-1/decision", { status: "approved" })).status).toBe(409);
  });
});

describe("property-level checks on every route (OWASP API3)", () => {
  it("never sends riskScore to a member, on a single read or in the list", async () => {
    const { as } = api();
    expect(
      (await as("alice").get("/expenses/exp-1")).body,
      "the owner must not see the fraud score",
    ).not.toHaveProperty("riskScore");
    for (const item of (await as("alice").get("/expenses")).body.items) expect(item).not.toHaveProperty("riskScore");
    expect((await as("carol").get("/expenses/exp-1")).body.riskScore).toBe(42);
  });

  it("refuses with 403 a write of a field the action may not change, and changes nothing", async () => {
    const { store, as } = api();
    const before = store.get("exp-1");
    for (const body of [
      { riskScore: 0 },
      { status: "approved" },
      { ownerId: "bob" },
      { tenantId: "t-globex" },
      { description: "ok", reviewerNote: "self-approved" },
    ]) {
      const res = await as("alice").patch("/expenses/exp-1", body);
      expect(res.status, `PATCH ${JSON.stringify(body)} by the owner: mass assignment of a protected field`).toBe(403);
    }
    const decision = await as("carol").post("/expenses/exp-2/decision", { status: "approved", amountCents: 1 });
    expect(decision.status, "a decision may not change the amount").toBe(403);
    expect(store.get("exp-1")).toEqual(before);
    expect(store.get("exp-2")?.status).toBe("submitted");
  });

  it("refuses with 400 a key the schema does not know", async () => {
    const { as } = api();
    expect((await as("alice").patch("/expenses/exp-1", { isAdmin: true })).status).toBe(400);
  });

  it("files a new expense under the subject's own tenant and id, whatever the body says", async () => {
    const { store, as } = api();
    const created = await as("alice").post("/expenses", { description: "Parking", amountCents: 1_500 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: "new-1",
      tenantId: "t-acme",
      ownerId: "alice",
      status: "draft",
      reviewerNote: null,
    });
    expect(created.body).not.toHaveProperty("riskScore");
    expect(store.get("new-1")).toMatchObject({ riskScore: 0, createdAt: "2026-01-02T00:00:00.000Z" });
    const spoofed = await as("alice").post("/expenses", {
      description: "Parking",
      amountCents: 1_500,
      ownerId: "bob",
      tenantId: "t-globex",
    });
    expect(spoofed.status, "tenantId and ownerId come from the subject, never from the body").toBe(403);
    expect(
      (await as("erin").post("/expenses", { description: "Audit trip", amountCents: 1 })).status,
      "auditors change nothing",
    ).toBe(403);
    expect(store.all().length, "only the one valid expense was created").toBe(Object.keys(expenses).length + 1);
  });
});
