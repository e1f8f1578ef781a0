// Kata: idempotency-key (1 of 2: the header and the fingerprint; the middleware is in
// idempotency-middleware.ts)
//
// draft-ietf-httpapi-idempotency-key-header-07 defines Idempotency-Key as an Item Structured
// Header (RFC 9651) whose value is a String: it travels quoted, `Idempotency-Key: "8e03978e"`.
// Build the two pure pieces the middleware stands on:
// - parseIdempotencyKey(value): the key inside a well-formed header, or undefined when the
//   header is missing, empty, not a Structured Field String (a bare token `abc`, an Integer
//   `42`, a List `"a", "b"` as two header lines give, an unterminated quote), or the empty
//   String `""`. Parameters after the String (`"k";v=1`) are allowed and ignored.
// - requestFingerprint(request): a digest of what makes two requests "the same operation":
//   the method, the path with its query (originalUrl) and the parsed body. Two requests that
//   differ in any of those have different fingerprints; headers (User-Agent, traceparent,
//   Date) never change it, since a retry may send them differently.
//
// Tests: tests/idempotency-key.test.ts (`npm run check week9 idempotency-key`).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

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
  // TODO: parse as an RFC 9651 Item; accept only a non-empty String bare item.
  throw new NotImplementedError("idempotency-key");
}

/** A stable digest of method, path and body: equal for a true retry, different for another request. */
export function requestFingerprint(request: FingerprintInput): string {
  // TODO: hash (node:crypto) an unambiguous serialisation of the three parts.
  throw new NotImplementedError("idempotency-key");
}
