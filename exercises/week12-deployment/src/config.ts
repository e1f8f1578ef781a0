// Kata: config
//
// A twelve-factor service reads its configuration from environment variables, so the same
// image runs in every environment. Environment variables are strings, and the bugs live in
// the conversion: z.coerce.boolean("false") is true, Number("") is 0, Number("0x1F90") is 8080.
// Build loadConfig(env): it validates every variable at start-up, reports every problem at
// once (so a broken deploy needs one fix, not five restarts), keeps secrets out of every log
// line, and hands back a frozen object that no code can change later.
//
// The variables (an empty value counts as unset, as `FOO=` in a .env file means):
//   NODE_ENV            "development" | "test" | "production"; default "development"
//   PORT                decimal digits only, 1..65535, no leading zero ("08080" is refused:
//                       is it a typo, or octal as YAML 1.1 and some shells read it?); default 8080
//   LOG_LEVEL           "fatal" | "error" | "warn" | "info" | "debug" | "trace"; default "info"
//   DATABASE_URL        required; a URL whose scheme is postgres: or postgresql:; a Secret
//   SESSION_SECRET      at least 32 characters; a Secret; required when NODE_ENV is production
//   TRUST_PROXY         a boolean; default false
//   METRICS_ENABLED     a boolean; default true
//   REQUEST_TIMEOUT_MS  an integer from 1 to 600000; default 10000
//   CORS_ORIGINS        comma-separated http(s) origins ("https://a.example, https://b.example");
//                       spaces and empty entries are ignored; a trailing "/" is allowed; a
//                       path, query or fragment is not; default none
// Booleans accept what z.stringbool() accepts (true/false, 1/0, yes/no, on/off, y/n,
// enabled/disabled, any case) and nothing else: "maybe" is a problem, not false.
//
// On any problem, throw ConfigError with one issue per bad variable: every problem at once,
// including SESSION_SECRET in production when other variables are also wrong. Messages
// name the variable and never repeat its value (a value may be a password).
// Secret: JSON.stringify, String(), template strings, util.inspect, console.log and pino
// all show it redacted; only reveal() gives the value.
// The result, and every object or array inside it, is frozen.
//
// Tests: tests/config.test.ts (npm run check week12 config).
// Keep the exported names and signatures: the tests import them.

import { inspect } from "node:util";
import { NotImplementedError } from "#kata";

export type NodeEnv = "development" | "test" | "production";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/** A value that must never reach a log line, a JSON body or a debugger's printout. */
export class Secret {
  constructor(value: string) {
    // TODO: keep the value where neither Object.keys, JSON.stringify nor util.inspect can see it.
    void value;
    throw new NotImplementedError("config");
  }

  /** The value itself: call this only where it is used (a connection string, a signature). */
  reveal(): string {
    // TODO
    throw new NotImplementedError("config");
  }

  // TODO: redact it for String(), template strings and JSON.stringify.
  toString(): string {
    throw new NotImplementedError("config");
  }

  toJSON(): string {
    throw new NotImplementedError("config");
  }

  // TODO: and for util.inspect, which console.log uses.
  [inspect.custom](): string {
    throw new NotImplementedError("config");
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

/** Reads and validates the service's configuration from `env` (process.env in production). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  // TODO: one schema per variable (zod: z.stringbool() for booleans, never z.coerce.boolean),
  // collect every issue under its variable name, check the production-only rule even when
  // other variables failed, then build the object and freeze it all the way down.
  void env;
  throw new NotImplementedError("config");
}
