// Kata: structured-logging
//
// The parts of a log record that go wrong in production: a secret that reaches the log
// pipeline, an error logged as {} (message and stack are not enumerable), an error whose cause
// points back at itself, an object with a cycle or a BigInt that makes JSON.stringify throw.
// - compileRedaction(paths, censor): paths are dot-separated keys ("req.headers.authorization"),
//   `*` for every key at its level ("*.password" is any top-level object's password), and
//   quoted brackets for keys with dots ('headers["x.api.key"]'). The redactor returns the
//   record with those values replaced, COPYING the objects on the way down: the caller's
//   objects are never modified. A path it cannot parse is a TypeError.
// - serializeError(error): { type (the constructor's name), message, stack, its own
//   enumerable fields (code, status...), cause (nested, serialized if it is an Error, as it
//   is otherwise), aggregateErrors for an AggregateError }. An error met twice on the way is
//   "[Circular]".
// - safeStringify(value): JSON that never throws. Cycles become "[Circular]", BigInt its
//   digits as a string, a throwing getter or toJSON a "[Unserializable: ...]" string.
//
// Tests: tests/structured-logging.test.ts (npm run check week10 structured-logging).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

/** What a redacted value is replaced with, as pino writes it. */
export const DEFAULT_CENSOR = "[Redacted]";

/** An Error as a log record carries it: pino's shape, with the cause chain nested. */
export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  cause?: unknown;
  aggregateErrors?: unknown[];
  [key: string]: unknown;
}

/** Replaces the values at the configured paths; returns the record it was given when nothing matched. */
export type Redactor = (record: Record<string, unknown>) => Record<string, unknown>;

/** Errors from this realm and others (a vm context, a worker's structured clone). */
export function isError(value: unknown): value is Error {
  // TODO: instanceof misses errors from another realm; node:util's types.isNativeError does not.
  throw new NotImplementedError("structured-logging");
}

/** Compiles redaction paths once; the logger applies them to every record before it is serialized. */
export function compileRedaction(paths: readonly string[], censor: string = DEFAULT_CENSOR): Redactor {
  // TODO: parse the paths now, not on every record.
  throw new NotImplementedError("structured-logging");
}

/** An Error as plain data, with its cause chain; an error met twice is "[Circular]". */
export function serializeError(error: Error, seen: Set<unknown> = new Set()): SerializedError {
  // TODO
  throw new NotImplementedError("structured-logging");
}

/** JSON.stringify that never throws. */
export function safeStringify(value: unknown): string {
  // TODO: try the native JSON.stringify first; it is fast, and most records are plain.
  throw new NotImplementedError("structured-logging");
}
