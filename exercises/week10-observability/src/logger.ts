// Kata: structured-logging
//
// At 3 a.m. nobody greps prose. A structured log is one JSON object per line that a pipeline
// can filter ("level >= 50 and requestId = ..."), and that never carries a password. Build a
// logger with pino's record shape:
// - One line per call: {"level":30,"time":<ms from the clock>,...fields,"msg":"..."} and "\n".
//   Levels are pino's numbers (LEVELS). Calls below the logger's level write nothing and build
//   nothing (do not even read the fields). "silent" writes nothing at all.
// - info("msg"), info({ fields }, "msg"), info(error, "msg"). An Error as the first argument
//   becomes `err` (msg defaults to its message); an Error as any top-level field value is
//   serialized too (see ./log-record). "msg" is left out when there is no message.
// - Fields come from: the logger's bindings (child() adds more; a child's own win), then the
//   current withLogContext fields, then the call's object; later ones win, and each key
//   appears once in the line. No binding, context or field can set "level", "time" or "msg":
//   those are the logger's.
// - withLogContext(fields, fn): AsyncLocalStorage, so a request id set once by middleware is on
//   every line the request logs, across awaits and timers. Nested contexts merge.
// - Redaction before serialization: values at the `redact` paths are replaced by the censor in
//   the record object, which is then serialized; the caller's objects are never modified.
// - It never throws at the caller: a field that cannot be serialized becomes a placeholder,
//   a record that cannot be built at all still gives a line with its level and time, and a
//   sink that throws is ignored. RangeError for an unknown level at creation, TypeError for
//   a redaction path it cannot parse.
//
// Tests: tests/structured-logging.test.ts (npm run check week10 structured-logging).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { Clock } from "./clock";

/** pino's numeric levels: what log pipelines filter on (level >= 40 is "warn and worse"). */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export type LevelName = keyof typeof LEVELS;

/** Where finished lines go: a BoundedSink in production, an array in tests. */
export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  sink: LogSink;
  /** The least severe level written; "silent" writes nothing. Default "info". */
  level?: LevelName | "silent";
  /** The `time` field: milliseconds since the epoch. */
  clock?: Clock;
  /** Paths whose values never reach the sink: "req.headers.authorization", "*.password", 'a["b.c"]'. */
  redact?: readonly string[];
  /** What a redacted value becomes. Default "[Redacted]". */
  censor?: string;
  /** Fields on every record of this logger and its children. */
  bindings?: Readonly<Record<string, unknown>>;
}

/** `info("message")`, `info({ fields }, "message")`, `info(error, "message")`. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

export interface Logger {
  readonly level: LevelName | "silent";
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose records all carry `bindings` too (a child's own win over its parent's). */
  child(bindings: Readonly<Record<string, unknown>>): Logger;
  isLevelEnabled(level: LevelName): boolean;
}

/** Runs `fn` with `fields` added to every record logged inside it, across awaits and timers. */
export function withLogContext<T>(fields: Readonly<Record<string, unknown>>, fn: () => T): T {
  // TODO: an AsyncLocalStorage at module level; merge with the outer context.
  throw new NotImplementedError("structured-logging");
}

/** The fields withLogContext set for the code running now. */
export function currentLogContext(): Readonly<Record<string, unknown>> | undefined {
  // TODO
  throw new NotImplementedError("structured-logging");
}

/** A JSON logger with pino's record shape. */
export function createLogger(options: LoggerOptions): Logger {
  // TODO: build the record object, redact it (compileRedaction from ./log-record), serialize it
  // (safeStringify), write it with a "\n". Wrap what can throw.
  throw new NotImplementedError("structured-logging");
}
