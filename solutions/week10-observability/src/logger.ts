import { AsyncLocalStorage } from "node:async_hooks";
import { type Clock, systemClock } from "./clock";
import { compileRedaction, DEFAULT_CENSOR, isError, type Redactor, safeStringify, serializeError } from "./log-record";

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

type Fields = Readonly<Record<string, unknown>>;

const context = new AsyncLocalStorage<Fields>();

/**
 * Runs `fn` with `fields` added to every record logged inside it, across awaits and timers:
 * a request id set once by middleware shows up on every line the request causes.
 */
export function withLogContext<T>(fields: Fields, fn: () => T): T {
  const outer = context.getStore();
  return context.run(outer === undefined ? { ...fields } : { ...outer, ...fields }, fn);
}

/** The fields withLogContext set for the code running now. */
export function currentLogContext(): Fields | undefined {
  return context.getStore();
}

/** Keys the logger owns: no binding, context or field may forge a record's level, time or message. */
function isReserved(key: string): boolean {
  return key === "level" || key === "time" || key === "msg";
}

/** Reads a field that may be a throwing getter. */
function read(source: object, key: string): unknown {
  try {
    return (source as Record<string, unknown>)[key];
  } catch (error) {
    return `[Unserializable: ${isError(error) ? error.message : String(error)}]`;
  }
}

/** A field's value as the record carries it: an Error turned into data. */
function fieldValue(source: object, key: string): unknown {
  const value = read(source, key);
  return isError(value) ? serializeError(value) : value;
}

function copyFields(target: Record<string, unknown>, source: object): void {
  for (const key of Object.keys(source)) if (!isReserved(key)) target[key] = fieldValue(source, key);
}

const { hasOwnProperty } = Object.prototype;

const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
const quotedKeys = new Map<string, string>();

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    // Keys repeat from line to line; the cap keeps a flood of distinct keys from growing the cache.
    if (quotedKeys.size < 10_000) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** One value as JSON, or undefined for what JSON leaves out (undefined, functions, symbols). */
function valueJson(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value.length < 64 && PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return `"${value}"`;
    case "object":
      if (value === null) return "null";
      return safeStringify(isError(value) ? serializeError(value) : value) as string | undefined;
    default:
      return undefined;
  }
}

/**
 * Fields as `"a":1,"b":"x"`, one value at a time (strings and numbers, most of a line, skip
 * JSON.stringify's object walk). Reserved keys are skipped. Returns undefined when a key is in
 * `taken` or `scoped`: that record needs merging first, so that one key appears once.
 */
function fieldsJson(fields: object, taken?: ReadonlySet<string>, scoped?: Fields): string | undefined {
  let out = "";
  // for...in with an own-property test: Object.keys' semantics without allocating its array per line.
  for (const key in fields) {
    if (!hasOwnProperty.call(fields, key) || isReserved(key)) continue;
    if (taken?.has(key) || (scoped !== undefined && Object.hasOwn(scoped, key))) return undefined;
    const json = valueJson(read(fields, key));
    if (json === undefined) continue;
    out += out === "" ? `${quoteKey(key)}:${json}` : `,${quoteKey(key)}:${json}`;
  }
  return out;
}

function join(a: string, b: string): string {
  return a === "" ? b : b === "" ? a : `${a},${b}`;
}

interface Core {
  readonly sink: LogSink;
  readonly clock: Clock;
  readonly threshold: number;
  readonly level: LevelName | "silent";
  /** Undefined when no path is configured: records are then serialized straight from the caller's objects. */
  readonly redact: Redactor | undefined;
}

class JsonLogger implements Logger {
  // Declared, not defined: a class field would first be set to undefined, and a property that
  // changes after creation is one V8 cannot treat as constant, which costs every call a check.
  declare readonly trace: LogFn;
  declare readonly debug: LogFn;
  declare readonly info: LogFn;
  declare readonly warn: LogFn;
  declare readonly error: LogFn;
  declare readonly fatal: LogFn;
  /** The bindings with their errors serialized, not yet redacted: for a record that overrides one. */
  readonly #bindings: Record<string, unknown> = {};
  /** Undefined without bindings: then no key needs checking against them. */
  readonly #bindingKeys: ReadonlySet<string> | undefined;
  /** The bindings redacted and serialized once, when the logger is made: most records only splice them in. */
  readonly #bindingsJson: string;

  constructor(
    private readonly core: Core,
    private readonly bindings: Fields,
  ) {
    copyFields(this.#bindings, bindings);
    const keys = Object.keys(this.#bindings);
    this.#bindingKeys = keys.length === 0 ? undefined : new Set(keys);
    this.#bindingsJson = fieldsJson(core.redact ? core.redact(this.#bindings) : this.#bindings) ?? "";
    const noop: LogFn = () => {};
    const method = (level: number): LogFn =>
      // A disabled level costs one comparison at creation and nothing per call: no record is built.
      level < core.threshold ? noop : (a: object | string, b?: string) => this.#write(level, a, b);
    this.trace = method(LEVELS.trace);
    this.debug = method(LEVELS.debug);
    this.info = method(LEVELS.info);
    this.warn = method(LEVELS.warn);
    this.error = method(LEVELS.error);
    this.fatal = method(LEVELS.fatal);
  }

  get level(): LevelName | "silent" {
    return this.core.level;
  }

  child(bindings: Fields): Logger {
    return new JsonLogger(this.core, { ...this.bindings, ...bindings });
  }

  isLevelEnabled(level: LevelName): boolean {
    return LEVELS[level] >= this.core.threshold;
  }

  #write(level: number, a: object | string, b: string | undefined): void {
    const now = this.core.clock.now();
    const time = Number.isFinite(now) ? now : null;
    let msg: string | undefined;
    let line: string;
    try {
      let fields: object | undefined;
      if (typeof a === "string") {
        msg = a;
      } else if (isError(a)) {
        fields = { err: a };
        msg = typeof b === "string" ? b : String(a.message);
      } else {
        fields = a;
        msg = typeof b === "string" ? b : undefined;
      }
      const body = this.#body(context.getStore(), fields);
      const message = msg === undefined ? "" : `,"msg":${valueJson(msg)!}`;
      line = `{"level":${level},"time":${time}${body === "" ? "" : `,${body}`}${message}}\n`;
    } catch (error) {
      const reason = isError(error) ? error.message : String(error);
      line = `${safeStringify({ level, time, msg, logError: `the record could not be built: ${reason}` })}\n`;
    }
    try {
      this.core.sink.write(line);
    } catch {
      // A sink that throws must not turn a log call into a failed request.
    }
  }

  /** Bindings, then context fields, then the call's fields, each key once, redacted before serialization. */
  #body(scoped: Fields | undefined, fields: object | undefined): string {
    const { redact } = this.core;
    if (redact === undefined) {
      // Nothing to redact: serialize the caller's objects as they are, unless keys collide.
      const context = scoped === undefined ? "" : fieldsJson(scoped, this.#bindingKeys);
      const own = fields === undefined ? "" : fieldsJson(fields, this.#bindingKeys, scoped);
      if (context !== undefined && own !== undefined) return join(this.#bindingsJson, join(context, own));
    }
    const merged: Record<string, unknown> = {};
    if (scoped !== undefined) copyFields(merged, scoped);
    if (fields !== undefined) copyFields(merged, fields);
    for (const key of Object.keys(merged)) {
      if (!this.#bindingKeys?.has(key)) continue;
      // A field overrides a binding: serialize everything together so that the key appears once.
      const all = { ...this.#bindings, ...merged };
      return fieldsJson(redact ? redact(all) : all) ?? "";
    }
    // Redact the object, then serialize it: a secret never exists in serialized form.
    return join(this.#bindingsJson, fieldsJson(redact ? redact(merged) : merged) ?? "");
  }
}

/**
 * A JSON logger with pino's record shape ({"level":30,"time":...,"msg":...}): levels, child
 * loggers with bound fields, context fields from withLogContext, redaction before
 * serialization, errors with their causes. It never throws at the caller.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? "info";
  if (level !== "silent" && !(level in LEVELS)) throw new RangeError(`unknown level ${JSON.stringify(level)}`);
  const core: Core = {
    sink: options.sink,
    clock: options.clock ?? systemClock,
    threshold: level === "silent" ? Number.POSITIVE_INFINITY : LEVELS[level],
    level,
    redact: options.redact?.length ? compileRedaction(options.redact, options.censor ?? DEFAULT_CENSOR) : undefined,
  };
  return new JsonLogger(core, { ...options.bindings });
}
