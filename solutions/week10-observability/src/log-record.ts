import { types } from "node:util";

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

const UNCHANGED = Symbol("unchanged");

// Read once: a loader may hand out node:util as a Proxy, and a property read per call adds up.
const { isNativeError } = types;

/** Errors from this realm and others (a vm context, a worker's structured clone). */
export function isError(value: unknown): value is Error {
  return (
    typeof value === "object" &&
    value !== null &&
    // A plain record, most of what is logged, is answered without isNativeError's call into C++.
    (value instanceof Error || (Object.getPrototypeOf(value) !== Object.prototype && isNativeError(value)))
  );
}

/**
 * Splits `a.b["c.d"].*` into ["a", "b", "c.d", "*"]. A bracket holds a quoted key, for keys
 * with dots; `*` stands for every key at its level. TypeError for a path it cannot read.
 */
function parsePath(path: string): string[] {
  const segments: string[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === "[") {
      const match = /^\[(["'])((?:(?!\1).)*)\1\]/.exec(path.slice(i));
      if (!match) throw new TypeError(`redaction path ${JSON.stringify(path)}: a bracket holds a quoted key`);
      segments.push(match[2]!);
      i += match[0].length;
    } else {
      const end = path.slice(i).search(/[.[]/);
      const segment = end < 0 ? path.slice(i) : path.slice(i, i + end);
      if (segment === "") throw new TypeError(`redaction path ${JSON.stringify(path)} has an empty segment`);
      segments.push(segment);
      i += segment.length;
    }
    if (path[i] === ".") {
      i++;
      if (i === path.length) throw new TypeError(`redaction path ${JSON.stringify(path)} ends with a dot`);
    } else if (i < path.length && path[i] !== "[") {
      throw new TypeError(`redaction path ${JSON.stringify(path)} is malformed`);
    }
  }
  if (segments.length === 0) throw new TypeError("an empty redaction path");
  return segments;
}

/**
 * The value with `segments` censored, copying each object on the way down instead of changing
 * it: the caller's request object still needs its Authorization header after the log line.
 */
function redactValue(value: unknown, segments: readonly string[], depth: number, censor: string): unknown {
  if (value === null || typeof value !== "object") return UNCHANGED;
  const source = value as Record<string, unknown>;
  const segment = segments[depth]!;
  const keys = segment === "*" ? Object.keys(source) : Object.hasOwn(source, segment) ? [segment] : [];
  const last = depth === segments.length - 1;
  let copy: Record<string, unknown> | undefined;
  for (const key of keys) {
    const next = last ? censor : redactValue(source[key], segments, depth + 1, censor);
    if (next === UNCHANGED) continue;
    copy ??= (Array.isArray(source) ? [...(source as unknown[])] : { ...source }) as Record<string, unknown>;
    copy[key] = next;
  }
  return copy ?? UNCHANGED;
}

/** Compiles redaction paths once; the logger applies them to every record before it is serialized. */
export function compileRedaction(paths: readonly string[], censor: string = DEFAULT_CENSOR): Redactor {
  const compiled = paths.map(parsePath);
  if (compiled.length === 0) return (record) => record;
  return (record) => {
    let current = record;
    for (const segments of compiled) {
      const next = redactValue(current, segments, 0, censor);
      if (next !== UNCHANGED) current = next as Record<string, unknown>;
    }
    return current;
  };
}

/** Reads a property that may be a throwing getter. */
function read(source: object, key: string): unknown {
  try {
    return (source as Record<string, unknown>)[key];
  } catch (error) {
    return unserializable(error);
  }
}

/** What a value whose getter threw is written as. */
function unserializable(error: unknown): string {
  return `[Unserializable: ${describe(error)}]`;
}

function describe(error: unknown): string {
  try {
    return isError(error) ? error.message : String(error);
  } catch {
    return "unknown error";
  }
}

/**
 * An Error as plain data: type, message, stack, its own enumerable fields (a code, a status),
 * its cause chain nested under `cause`, an AggregateError's errors. An error met twice on the
 * way is "[Circular]": a cause cycle must not hang or crash the logger.
 */
export function serializeError(error: Error, seen?: Set<unknown>): SerializedError {
  seen?.add(error);
  // The standard fields are read with literal keys, each guarded on its own: through read(),
  // whose key varies, every one would be a generic property lookup, a third of the cost here.
  let constructor: unknown;
  let message: unknown;
  let stack: unknown;
  let errors: unknown;
  try {
    constructor = error.constructor;
  } catch {
    // The type then comes from the name.
  }
  try {
    message = error.message;
  } catch (failure) {
    message = unserializable(failure);
  }
  try {
    stack = error.stack;
  } catch (failure) {
    stack = unserializable(failure);
  }
  const out: SerializedError = {
    type: typeof constructor === "function" && constructor.name ? constructor.name : String(read(error, "name")),
    message: String(message),
    stack: stack as string | undefined,
  };
  // Made on the first nested error only: most errors have no cause to track.
  let met = seen;
  try {
    errors = (error as { errors?: unknown }).errors;
  } catch {
    // Not an AggregateError's list, then.
  }
  if (Array.isArray(errors)) {
    out.aggregateErrors = errors.map((item: unknown) =>
      isError(item) ? nestedError(item, (met ??= new Set<unknown>().add(error))) : item,
    );
  }
  for (const key of Object.keys(error)) {
    if (key === "cause" || key in out) continue;
    const value = read(error, key);
    out[key] = isError(value) ? nestedError(value, (met ??= new Set<unknown>().add(error))) : value;
  }
  if ("cause" in error) {
    let cause: unknown;
    try {
      cause = error.cause;
    } catch (failure) {
      cause = unserializable(failure);
    }
    if (isError(cause)) out.cause = nestedError(cause, (met ??= new Set<unknown>().add(error)));
    else if (cause !== undefined) out.cause = cause;
  }
  return out;
}

function nestedError(error: Error, seen: Set<unknown>): unknown {
  return seen.has(error) ? "[Circular]" : serializeError(error, seen);
}

const MAX_DEPTH = 64;

/** A JSON-safe copy of anything: cycles cut, BigInt as text, throwing getters and toJSON caught. */
function sanitize(value: unknown, ancestors: object[]): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (ancestors.includes(value)) return "[Circular]";
  if (ancestors.length >= MAX_DEPTH) return "[Too deep]";
  const toJSON = read(value, "toJSON");
  if (typeof toJSON === "function") {
    try {
      return sanitize(toJSON.call(value), ancestors);
    } catch (error) {
      return unserializable(error);
    }
  }
  const inside = [...ancestors, value];
  if (isError(value)) return sanitize(serializeError(value), inside);
  if (Array.isArray(value)) return value.map((item) => sanitize(item, inside) ?? null);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = sanitize(read(value, key), inside);
  return out;
}

/**
 * JSON.stringify that never throws: the native one first (fast), and on a cycle, a BigInt, a
 * throwing getter or toJSON, a careful copy instead.
 */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(sanitize(value, []));
  }
}
