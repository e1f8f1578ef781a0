import { STATUS_CODES } from "node:http";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { z } from "zod";
import { DomainError, type DomainErrorCode, ValidationError, type ValidationIssue } from "../errors";

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

/**
 * Titles of about:blank problems: RFC 9457 §4.2.1 wants the status phrase, and RFC 9110
 * renamed 413, which Node's STATUS_CODES still calls "Payload Too Large".
 */
const STATUS_PHRASES: Readonly<Record<number, string>> = { 413: "Content Too Large" };

const statusPhrase = (status: number): string => STATUS_PHRASES[status] ?? STATUS_CODES[status] ?? "Error";

const DOMAIN_PROBLEMS: Readonly<Record<DomainErrorCode, { status: number; slug: string; title: string }>> = {
  VALIDATION_FAILED: { status: 422, slug: "validation-failed", title: "The request is not valid" },
  ORDER_NOT_FOUND: { status: 404, slug: "order-not-found", title: "No such order" },
  INVALID_TRANSITION: {
    status: 409,
    slug: "invalid-transition",
    title: "The order cannot make this change in its current status",
  },
  CONCURRENCY_CONFLICT: {
    status: 409,
    slug: "concurrency-conflict",
    title: "The order changed while this request was being handled",
  },
};

/** Body-parser failures carry a `type` saying what went wrong; their messages may quote the body. */
const PARSER_DETAILS: ReadonlyMap<unknown, string> = new Map([
  ["entity.parse.failed", "The body is not valid JSON."],
  ["entity.too.large", "The body is larger than this endpoint accepts."],
  ["charset.unsupported", "The body must be encoded in UTF-8."],
  ["encoding.unsupported", "The body's content encoding is not supported."],
]);

/**
 * Maps anything a handler threw to the problem a client may see. The mapping is a closed
 * list: an error it does not recognise is a 500 whose detail says nothing about the cause,
 * because messages of unexpected errors carry SQL, file paths and data.
 */
export function problemFor(error: unknown): ProblemDetails & { headers?: Readonly<Record<string, string>> } {
  if (error instanceof DomainError) {
    const { status, slug, title } = DOMAIN_PROBLEMS[error.code];
    const problem = { type: PROBLEM_TYPE_BASE + slug, title, status, detail: error.message, code: error.code };
    if (error instanceof ValidationError) {
      return {
        ...problem,
        detail: "The request is not valid: each entry of errors names one invalid part.",
        errors: error.issues,
      };
    }
    return problem;
  }
  if (error instanceof HttpProblem) {
    return { ...aboutBlank(error.status, error.detail), headers: error.headers };
  }
  const status = clientErrorStatus(error);
  if (status !== undefined) {
    return aboutBlank(
      status,
      PARSER_DETAILS.get((error as { type?: unknown }).type) ?? "The request could not be read.",
    );
  }
  return aboutBlank(500, "The server could not handle this request. The failure has been logged.");
}

function aboutBlank(status: number, detail: string): ProblemDetails {
  return { type: "about:blank", title: statusPhrase(status), status, detail };
}

/**
 * A 4xx status that an error of the HTTP stack (http-errors, as body-parser throws) declares
 * safe to expose. A bare `status` is not enough: an HTTP client's error for a downstream
 * 404 carries one too, and mirroring it would tell your client that *your* resource is gone.
 */
function clientErrorStatus(error: unknown): number | undefined {
  // Object() makes null, undefined and primitives safe to destructure (they have no status).
  const { status, expose } = Object(error) as { status?: unknown; expose?: unknown };
  return typeof status === "number" && status >= 400 && status < 500 && expose === true ? status : undefined;
}

/** An RFC 6901 JSON Pointer: "~" and "/" inside a segment are escaped as "~0" and "~1". */
export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => "/" + String(segment).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** zod issues as pointer issues; an unknown key gets its own pointer, to the key itself. */
export function issuesFrom(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          pointer: toPointer([...issue.path, key]),
          detail: "is not a field this endpoint accepts",
        }))
      : [{ pointer: toPointer(issue.path), detail: issue.message }],
  );
}

/** The last handler of the app: anything no route answered is a 404 problem, not express's HTML. */
export const notFound: RequestHandler = (_req, _res, next) => {
  next(new HttpProblem(404, "There is no resource at this URL."));
};

/**
 * The app's error handler: every error becomes application/problem+json whose `status`
 * equals the HTTP status. `report` receives every 500's original error, so operators see
 * what clients must not.
 */
export function problemHandler(report: (error: unknown) => void): ErrorRequestHandler {
  return (error, _req, res, next) => {
    // Once the status line is out, a problem body cannot follow: let express end the socket.
    if (res.headersSent) return next(error);
    const { headers, ...problem } = problemFor(error);
    if (problem.status >= 500) {
      try {
        report(error);
      } catch {
        // A broken logger must not turn a problem response into express's HTML error page.
      }
    }
    res
      .status(problem.status)
      .set(headers ?? {})
      .type(PROBLEM_CONTENT_TYPE)
      .json(problem);
  };
}
