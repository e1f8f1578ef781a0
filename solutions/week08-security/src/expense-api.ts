// Reference solution of the authorization kata, the HTTP half: every route asks the policy.

import { STATUS_CODES } from "node:http";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Clock } from "./clock";
import {
  type Expense,
  type ExpenseStore,
  type ExpenseWrite,
  expenseWriteSchema,
  newExpenseId,
  riskScoreFor,
  type Subject,
} from "./expenses";
import { type Action, authorize, mayCreate, viewOf, type WriteAction, writableFields } from "./expense-policy";

export interface ExpenseApiOptions {
  readonly store: ExpenseStore;
  readonly authenticate: (req: Request) => Subject | undefined;
  readonly clock: Clock;
  readonly newId?: () => string;
}

/** An RFC 9457 problem. Every 404 goes through here with no detail, so all of them look alike. */
function problem(res: Response, status: number, detail?: string): void {
  const body = { type: "about:blank", title: STATUS_CODES[status], status, ...(detail ? { detail } : {}) };
  res.status(status).type("application/problem+json").json(body);
}

/** The expense API with an object-level and a property-level check on every route. */
export function createExpenseApi(options: ExpenseApiOptions): Express {
  const { store, clock } = options;
  const newId = options.newId ?? newExpenseId;
  const app = express();
  app.use(express.json({ limit: 16 * 1024 }));

  /** The authenticated subject, or a 401 already sent. */
  const subjectOf = (req: Request, res: Response): Subject | undefined => {
    const subject = options.authenticate(req);
    if (!subject) problem(res, 401);
    return subject;
  };

  /** Loads the expense and runs the object-level check; sends the 404 or 403 itself. */
  const load = (req: Request, res: Response, subject: Subject, action: Action): Expense | undefined => {
    const expense = store.get(String(req.params.id));
    if (!expense) return void problem(res, 404);
    const decision = authorize(subject, action, expense);
    if (!decision.allowed) return void problem(res, decision.status);
    return expense;
  };

  /** The body, parsed; then the property-level check. Sends the 400 or 403 itself. */
  const fields = (req: Request, res: Response, action: WriteAction): ExpenseWrite | undefined => {
    const parsed = expenseWriteSchema.safeParse(req.body ?? {});
    if (!parsed.success) return void problem(res, 400);
    const allowed = new Set<string>(writableFields(action));
    const forbidden = Object.keys(parsed.data).filter((field) => !allowed.has(field));
    if (forbidden.length > 0) return void problem(res, 403, `not writable here: ${forbidden.join(", ")}`);
    return parsed.data;
  };

  app.get("/expenses", (req, res) => {
    const subject = subjectOf(req, res);
    if (!subject) return;
    const items = store
      .all()
      .filter((expense) => authorize(subject, "expense:read", expense).allowed)
      .map((expense) => viewOf(subject, expense));
    res.json({ items });
  });

  app.get("/expenses/:id", (req, res) => {
    const subject = subjectOf(req, res);
    const expense = subject && load(req, res, subject, "expense:read");
    if (subject && expense) res.json(viewOf(subject, expense));
  });

  app.post("/expenses", (req, res) => {
    const subject = subjectOf(req, res);
    if (!subject) return;
    if (!mayCreate(subject)) return problem(res, 403);
    const input = fields(req, res, "expense:create");
    if (!input) return;
    if (input.description === undefined || input.amountCents === undefined) {
      return problem(res, 400, "description and amountCents are required");
    }
    const created = store.insert({
      id: newId(),
      tenantId: subject.tenantId,
      ownerId: subject.userId,
      description: input.description,
      amountCents: input.amountCents,
      status: "draft",
      reviewerNote: null,
      riskScore: riskScoreFor(input.amountCents),
      createdAt: new Date(clock.now()).toISOString(),
    });
    res.status(201).json(viewOf(subject, created));
  });

  app.patch("/expenses/:id", (req, res) => {
    const subject = subjectOf(req, res);
    const expense = subject && load(req, res, subject, "expense:update");
    const input = subject && expense && fields(req, res, "expense:update");
    if (!subject || !expense || !input) return;
    res.json(viewOf(subject, store.update(expense.id, input as Partial<Expense>)));
  });

  app.post("/expenses/:id/decision", (req, res) => {
    const subject = subjectOf(req, res);
    const expense = subject && load(req, res, subject, "expense:decide");
    const input = subject && expense && fields(req, res, "expense:decide");
    if (!subject || !expense || !input) return;
    if (input.status !== "approved" && input.status !== "rejected") {
      return problem(res, 400, "status must be approved or rejected");
    }
    if (expense.status !== "submitted") return problem(res, 409, "only a submitted expense can be decided");
    const decided = store.update(expense.id, { status: input.status, reviewerNote: input.reviewerNote ?? null });
    res.json(viewOf(subject, decided));
  });

  app.delete("/expenses/:id", (req, res) => {
    const subject = subjectOf(req, res);
    const expense = subject && load(req, res, subject, "expense:delete");
    if (!subject || !expense) return;
    store.delete(expense.id);
    res.status(204).end();
  });

  // Unknown routes and malformed JSON get problems too, never Express's HTML pages.
  app.use((_req: Request, res: Response) => problem(res, 404));
  // body-parser's errors carry their 4xx status (malformed JSON, too large); anything else is ours.
  app.use((error: { status?: unknown }, _req: Request, res: Response, _next: NextFunction) => {
    problem(res, error.status === 400 || error.status === 413 ? error.status : 500);
  });
  return app;
}
