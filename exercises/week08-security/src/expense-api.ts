// Kata: authorization (the HTTP half)
//
// The routes of the expense API. Each one loads the expense by id and asks the policy before
// it reads or writes anything; a check on GET only is a check an attacker walks around with
// PATCH. Routes (JSON in and out; errors as application/problem+json with a numeric status):
//   GET    /expenses              200 { items: [...] }: what the subject may read, as viewOf()
//   GET    /expenses/:id          200 viewOf(expense) | 404
//   POST   /expenses              201 viewOf(new expense) | 400 | 403
//   PATCH  /expenses/:id          200 viewOf(updated) | 400 | 403 | 404
//   POST   /expenses/:id/decision 200 viewOf(updated) | 400 | 403 | 404 | 409 (not "submitted")
//   DELETE /expenses/:id          204 | 403 | 404
// - No subject (authenticate answered undefined): 401 on every route.
// - A body is parsed with expenseWriteSchema (expenses.ts): an unknown key is a 400. Then a
//   field the action may not write (writableFields) is a 403, and nothing is changed.
// - A new expense takes tenantId and ownerId from the subject, status "draft", reviewerNote
//   null, riskScore from riskScoreFor(), createdAt from the clock; a decision needs status
//   "approved" or "rejected".
// - Every 404 looks the same, whether the id exists in another tenant or nowhere at all.
//
// Tests: tests/authorization.test.ts (npm run check week8 authorization).
// Keep the exported names and signatures: the tests import them.

import type { Express, Request } from "express";
import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";
import type { ExpenseStore, Subject } from "./expenses";

export interface ExpenseApiOptions {
  readonly store: ExpenseStore;
  /** Who is asking (a verified token, in production). undefined: not authenticated. */
  readonly authenticate: (req: Request) => Subject | undefined;
  readonly clock: Clock;
  /** Default: newExpenseId from expenses.ts. */
  readonly newId?: () => string;
}

/** The expense API with an object-level and a property-level check on every route. */
export function createExpenseApi(options: ExpenseApiOptions): Express {
  // TODO: express(), express.json(), the six routes, each: subject, load, authorize, fields.
  throw new NotImplementedError("authorization");
}
