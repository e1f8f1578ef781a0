// Reference solution for the `idempotency-key` kata: the header value and the fingerprint.

import { createHash } from "node:crypto";
import { parseItem } from "structured-headers";

/** What a fingerprint looks at: the parts of an express Request that define the operation. */
export interface FingerprintInput {
  readonly method: string;
  /** Path and query as the client sent them (express's req.originalUrl). */
  readonly originalUrl: string;
  /** The parsed body (express.json() ran first), or undefined. */
  readonly body: unknown;
}

/** The key inside an Idempotency-Key header value, or undefined if missing or malformed. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  let bare: unknown;
  try {
    // An RFC 9651 Item: the String is the bare item, parameters may follow and are ignored. A
    // missing header fails to parse like any other malformed one.
    // Stryker disable next-line StringLiteral: any value that is not a String answers undefined
    [bare] = parseItem(value ?? "");
    // Stryker disable next-line BlockStatement: an empty catch leaves bare undefined, the same answer
  } catch {
    return undefined;
  }
  // A Token, an Integer or a Boolean parses as an Item too, but is not a String.
  return typeof bare === "string" && bare !== "" ? bare : undefined;
}

/** A stable digest of method, path and body: equal for a true retry, different for another request. */
export function requestFingerprint(request: FingerprintInput): string {
  // A JSON array keeps the three parts apart (no separator to forge) and distinguishes an
  // absent body (null) from an empty string or an empty object.
  const canonical = JSON.stringify([request.method, request.originalUrl, request.body ?? null]);
  return createHash("sha256").update(canonical).digest("base64url");
}
