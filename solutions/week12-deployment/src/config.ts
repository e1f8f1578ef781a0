// Reference solution for the `config` kata: twelve-factor configuration from environment
// variables, validated once at start-up with zod, with secrets that cannot leak into logs.

import { inspect } from "node:util";
import { z } from "zod";

export type NodeEnv = "development" | "test" | "production";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

const REDACTED = "[redacted]";

/** A value that must never reach a log line, a JSON body or a debugger's printout. */
export class Secret {
  // A private field is invisible to Object.keys, JSON.stringify, structuredClone and
  // util.inspect alike; the three methods below cover the ways a value is turned into text.
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: call this only where it is used (a connection string, a signature). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

export interface AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly databaseUrl: Secret;
  /** Undefined outside production when SESSION_SECRET is unset. */
  readonly sessionSecret: Secret | undefined;
  readonly trustProxy: boolean;
  readonly metricsEnabled: boolean;
  readonly http: {
    readonly requestTimeoutMs: number;
    /** Origins as URL#origin spells them: "https://a.example" (no trailing slash). */
    readonly corsOrigins: readonly string[];
  };
}

/** One bad variable: its name and what is wrong with it (never its value). */
export interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

/** Every configuration problem found at start-up; `message` names each variable. */
export class ConfigError extends Error {
  readonly code = "ERR_CONFIG";

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

// Digits only and no leading zero: Number() would also take "0x1F90", "8e3", " 80" and
// "" (as 0), and a leading zero is octal to YAML 1.1 and to some shells.
const port = z
  .string()
  .regex(/^[1-9]\d*$/, "must be a decimal integer from 1 to 65535 without a leading zero")
  .transform(Number)
  .pipe(z.number().max(65_535, "must be at most 65535"));

const integerIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a decimal integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

// zod's own messages for these quote the expected options; none of them echo the input.
const boolean = z.stringbool({ error: "must be a boolean: true/false, 1/0, yes/no, on/off" });

const postgresUrl = z.string().refine((value) => {
  try {
    return ["postgres:", "postgresql:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, "must be a postgres:// or postgresql:// URL");

function toOrigin(entry: string): string | undefined {
  try {
    const url = new URL(entry);
    const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "";
    return bare && (url.protocol === "http:" || url.protocol === "https:") ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

const corsOrigins = z.string().transform((list, ctx) => {
  const origins: string[] = [];
  const entries = list
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  for (const [index, entry] of entries.entries()) {
    const position = index + 1;
    const origin = toOrigin(entry);
    // The position, not the entry: an origin list is not secret, but a message never quotes input.
    if (origin === undefined) ctx.addIssue({ code: "custom", message: `entry ${position} is not an http(s) origin` });
    else origins.push(origin);
  }
  return origins;
});

const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  PORT: port.default(8_080),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  DATABASE_URL: postgresUrl,
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters long").optional(),
  TRUST_PROXY: boolean.default(false),
  METRICS_ENABLED: boolean.default(true),
  REQUEST_TIMEOUT_MS: integerIn(1, 600_000).default(10_000),
  CORS_ORIGINS: corsOrigins.default([]),
});

type Variable = keyof z.input<typeof schema>;
const VARIABLES = Object.keys(schema.shape) as Variable[];

/** Freezes an object and every object or array inside it. */
function freeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) freeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Reads and validates the service's configuration from `env` (process.env in production). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  // Only our variables, and `FOO=` means unset, so a default applies and "required" says so.
  const input: Partial<Record<Variable, string>> = {};
  for (const name of VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== "") input[name] = value;
  }

  const issues: ConfigIssue[] = [];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? "environment");
      // One issue per variable: the first thing wrong with it is what to fix.
      if (!issues.some((i) => i.variable === variable)) {
        const missing = issue.code === "invalid_type" && input[variable as Variable] === undefined;
        issues.push({ variable, message: missing ? "is required" : issue.message });
      }
    }
  }
  // Checked by hand, not with a refinement: zod skips object refinements once a field has
  // failed, and this rule must be reported together with every other problem.
  const production = (parsed.success ? parsed.data.NODE_ENV : input.NODE_ENV) === "production";
  if (production && input.SESSION_SECRET === undefined) {
    issues.push({ variable: "SESSION_SECRET", message: "is required when NODE_ENV is production" });
  }
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);

  const data = parsed.data;
  return freeze<AppConfig>({
    nodeEnv: data.NODE_ENV,
    port: data.PORT,
    logLevel: data.LOG_LEVEL,
    databaseUrl: new Secret(data.DATABASE_URL),
    sessionSecret: data.SESSION_SECRET === undefined ? undefined : new Secret(data.SESSION_SECRET),
    trustProxy: data.TRUST_PROXY,
    metricsEnabled: data.METRICS_ENABLED,
    http: { requestTimeoutMs: data.REQUEST_TIMEOUT_MS, corsOrigins: data.CORS_ORIGINS },
  });
}
