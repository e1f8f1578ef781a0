/**
 * Kata http-api (1 of 2): every error of the orders API as RFC 9457 problem details.
 *
 * Clients get one error format for everything, sent as `application/problem+json`, with the
 * members `type` (a URI naming the kind of problem), `title`, `status` (always equal to the
 * HTTP status) and `detail`. tests/http-api.test.ts pins this mapping:
 *
 *   thrown                           status  type                                   title
 *   ValidationError                  422     PROBLEM_TYPE_BASE + "validation-failed"     (yours)
 *   NotFoundError                    404     PROBLEM_TYPE_BASE + "order-not-found"       (yours)
 *   InvalidTransitionError           409     PROBLEM_TYPE_BASE + "invalid-transition"    (yours)
 *   ConcurrencyError                 409     PROBLEM_TYPE_BASE + "concurrency-conflict"  (yours)
 *   HttpProblem(status, …)           status  "about:blank"     the status phrase (RFC 9110)
 *   body-parser errors (400/413/415) status  "about:blank"     the status phrase (RFC 9110)
 *   anything else                    500     "about:blank"     "Internal Server Error"
 *
 * Domain problems also carry the error's `code`; a ValidationError carries its issues as an
 * `errors` member ([{ pointer, detail }]). "about:blank" means "nothing beyond the status", so
 * its title must be the status phrase: note that RFC 9110 calls 413 "Content Too Large",
 * which Node's http.STATUS_CODES still spells "Payload Too Large".
 * A 500 tells the client nothing about the cause (no message, no stack, no SQL): the error
 * goes to `report` instead. Body-parser messages can quote the body: write your own details.
 * Only errors that declare themselves safe (http-errors' `expose: true`, as body-parser sets
 * it) keep their 4xx status: an HTTP client's error for a downstream 404 has a `status` too,
 * and it is not your 404.
 *
 * Keep the exported names and signatures: the orders app (./orders-app) uses them.
 */
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { z } from "zod";
import { NotImplementedError } from "#kata";
import type { DomainErrorCode, ValidationIssue } from "../errors";

/** The media type of every error response (RFC 9457 §3). */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Where the problem types of this API are documented; a type is a URI, stable forever. */
export const PROBLEM_TYPE_BASE = "https://orders.example.com/problems/";

/** An RFC 9457 problem details object, with this API's extension members. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Extension: the domain error code a client can branch on. */
  readonly code?: DomainErrorCode;
  /** Extension: every invalid part of the request, each with a JSON Pointer. */
  readonly errors?: readonly ValidationIssue[];
}

/**
 * An HTTP-level failure that is not a domain error (unknown route, wrong method, wrong media
 * type): a status, a detail safe to show, and headers the status requires (Allow for 405).
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
  }
}

/** Maps anything a handler threw to the problem a client may see (see the table above). */
export function problemFor(error: unknown): ProblemDetails & { headers?: Readonly<Record<string, string>> } {
  // TODO: a closed list of what you recognise; everything else is an uninformative 500.
  // body-parser's errors have a numeric `status`, `expose: true` and a `type` such as
  // "entity.parse.failed" or "entity.too.large".
  throw new NotImplementedError("http-api");
}

/** An RFC 6901 JSON Pointer: "~" and "/" inside a segment are escaped as "~0" and "~1". */
export function toPointer(path: readonly PropertyKey[]): string {
  // TODO: ["lines", 0, "a/b"] → "/lines/0/a~1b" (escape "~" first).
  throw new NotImplementedError("http-api");
}

/** zod issues as pointer issues; an unknown key gets its own pointer, to the key itself. */
export function issuesFrom(error: z.ZodError): ValidationIssue[] {
  // TODO: an "unrecognized_keys" issue lists its keys; give each one an issue.
  throw new NotImplementedError("http-api");
}

/** The last handler of the app: anything no route answered is a 404 problem, not express's HTML. */
export const notFound: RequestHandler = (_req, _res, next) => {
  // TODO: pass an HttpProblem(404, …) to next.
  next(new NotImplementedError("http-api"));
};

/**
 * The app's error handler: every error becomes application/problem+json whose `status`
 * equals the HTTP status. `report` receives every 500's original error.
 */
export function problemHandler(report: (error: unknown) => void): ErrorRequestHandler {
  // TODO: (error, req, res, next) => … ; if res.headersSent, hand the error to next(error).
  throw new NotImplementedError("http-api");
}
