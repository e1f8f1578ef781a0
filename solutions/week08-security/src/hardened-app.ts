// Reference solution of the input-hardening kata, the HTTP edge: problems, limits, schemas.

import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { DuplicateEmailError, type Queryable, UserRepository } from "./user-repository";
import { type FieldIssue, parseSettingsPatch, parseSignup, parseUserSearch } from "./user-schemas";

export interface UserApiOptions {
  readonly db: Queryable;
  readonly passwordHasher: { hash(password: string): Promise<string> };
  readonly maxBodyBytes?: number;
  readonly onError?: (error: unknown) => void;
}

const TITLES: Record<number, string> = {
  400: "The body is not valid JSON",
  404: "Not found",
  409: "A user with this email exists",
  413: "The body is too large",
  415: "Only application/json is accepted",
  422: "The request is not valid",
  500: "Something went wrong",
};

const VALIDATION_TYPE = "https://api.example.com/problems/validation";

/**
 * An RFC 9457 problem. Titles are fixed per status and no detail is ever built from the
 * request or from an error message, so nothing the client sent or the server hid comes back.
 */
function problem(res: Response, status: number, errors?: readonly FieldIssue[]): void {
  const body = errors
    ? { type: VALIDATION_TYPE, title: TITLES[422], status, errors }
    : { type: "about:blank", title: TITLES[status] ?? TITLES[500], status };
  res.status(status).type("application/problem+json").json(body);
}

/** The status a body-parser error stands for; anything else is ours, a 500. */
function statusOf(error: unknown): number {
  switch ((error as { type?: unknown } | null)?.type) {
    case "entity.parse.failed":
      return 400;
    case "entity.too.large":
      return 413;
    case "charset.unsupported":
    case "encoding.unsupported":
      return 415;
    default:
      return 500;
  }
}

/** The users API: strict schemas, parameterized queries and RFC 9457 problems. */
export function createUserApi(options: UserApiOptions): Express {
  const users = new UserRepository(options.db);
  const onError = options.onError ?? console.error;
  const app = express();
  app.disable("x-powered-by");

  // req.is() answers null when there is no body and false when the body is something else.
  app.use((req, res, next) => (req.is("application/json") === false ? problem(res, 415) : next()));
  app.use(express.json({ limit: options.maxBodyBytes ?? 16 * 1024, type: "application/json" }));

  app.post("/users", async (req, res) => {
    const parsed = parseSignup(req.body);
    if (!parsed.ok) return problem(res, 422, parsed.issues);
    const { email, displayName, password } = parsed.value;
    const passwordHash = await options.passwordHasher.hash(password);
    try {
      res.status(201).json(await users.create({ email, displayName, passwordHash }));
    } catch (error) {
      if (error instanceof DuplicateEmailError) return problem(res, 409);
      throw error;
    }
  });

  app.get("/users", async (req, res) => {
    const parsed = parseUserSearch(req.query);
    if (!parsed.ok) return problem(res, 422, parsed.issues);
    res.json({ items: await users.search(parsed.value) });
  });

  app.get("/users/:id", async (req, res) => {
    const user = await users.findById(req.params.id);
    if (!user) return problem(res, 404);
    res.json(user);
  });

  app.patch("/users/:id/settings", async (req, res) => {
    const parsed = parseSettingsPatch(req.body);
    if (!parsed.ok) return problem(res, 422, parsed.issues);
    const user = await users.updateSettings(req.params.id, parsed.value);
    if (!user) return problem(res, 404);
    res.json(user);
  });

  app.use((_req: Request, res: Response) => problem(res, 404));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(error);
    if (status === 500) onError(error);
    problem(res, status);
  });
  return app;
}
