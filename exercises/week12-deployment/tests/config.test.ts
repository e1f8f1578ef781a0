import { Console } from "node:console";
import { PassThrough } from "node:stream";
import { format, inspect } from "node:util";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, Secret, type ConfigIssue } from "../src/config";

const DATABASE_URL = "postgres://app:db-pass-7Q2x@db.internal:5432/orders";
const SESSION_SECRET = "session-secret-0123456789-abcdefghij";
const base = { DATABASE_URL };

/** The issues of the ConfigError that loadConfig throws for `env`; fails if it throws nothing else. */
function issuesFor(env: Record<string, string | undefined>): ConfigIssue[] {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `loadConfig(${JSON.stringify(env)}) must refuse this environment with a ConfigError`).toBeInstanceOf(
    ConfigError,
  );
  return [...(thrown as ConfigError).issues];
}

const variablesOf = (issues: ConfigIssue[]) => issues.map((i) => i.variable).sort();

describe("typed values and defaults", () => {
  it("applies the documented defaults when only DATABASE_URL is set", () => {
    const config = loadConfig(base);
    expect({
      nodeEnv: config.nodeEnv,
      port: config.port,
      logLevel: config.logLevel,
      trustProxy: config.trustProxy,
      metricsEnabled: config.metricsEnabled,
      http: { ...config.http, corsOrigins: [...config.http.corsOrigins] },
      sessionSecret: config.sessionSecret,
    }).toEqual({
      nodeEnv: "development",
      port: 8080,
      logLevel: "info",
      trustProxy: false,
      metricsEnabled: true,
      http: { requestTimeoutMs: 10_000, corsOrigins: [] },
      sessionSecret: undefined,
    });
    expect(config.databaseUrl, "DATABASE_URL holds a password: it is a Secret").toBeInstanceOf(Secret);
    expect(config.databaseUrl.reveal()).toBe(DATABASE_URL);
  });

  it("reads every variable into its typed field", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      PORT: "3000",
      LOG_LEVEL: "warn",
      DATABASE_URL: "postgresql://u:p@h/db",
      SESSION_SECRET,
      TRUST_PROXY: "true",
      METRICS_ENABLED: "false",
      REQUEST_TIMEOUT_MS: "2500",
      CORS_ORIGINS: "https://shop.example",
      UNRELATED: "anything: the environment holds far more than our variables",
    });
    expect(config.nodeEnv).toBe("production");
    expect(config.port, "PORT is a number, not the string '3000'").toBe(3000);
    expect(config.logLevel).toBe("warn");
    expect(config.databaseUrl.reveal()).toBe("postgresql://u:p@h/db");
    expect(config.sessionSecret?.reveal()).toBe(SESSION_SECRET);
    expect(config.trustProxy).toBe(true);
    expect(config.metricsEnabled).toBe(false);
    expect(config.http.requestTimeoutMs).toBe(2500);
    expect(config.http.corsOrigins).toEqual(["https://shop.example"]);
  });

  it("treats an empty value as unset: the default applies, and a required variable is missing", () => {
    const config = loadConfig({ ...base, PORT: "", LOG_LEVEL: "", TRUST_PROXY: "" });
    expect(config.port, "PORT= in a .env file means 'not set', not port 0").toBe(8080);
    expect(config.logLevel).toBe("info");
    expect(config.trustProxy).toBe(false);
    expect(variablesOf(issuesFor({ DATABASE_URL: "" })), "an empty DATABASE_URL is a missing one").toEqual([
      "DATABASE_URL",
    ]);
  });

  it("refuses a DATABASE_URL that is not a postgres URL, and an unknown NODE_ENV or LOG_LEVEL", () => {
    expect(variablesOf(issuesFor({ DATABASE_URL: "mysql://u:p@h/db" }))).toEqual(["DATABASE_URL"]);
    expect(variablesOf(issuesFor({ DATABASE_URL: "not a url" }))).toEqual(["DATABASE_URL"]);
    expect(
      variablesOf(issuesFor({ ...base, NODE_ENV: "prod" })),
      "a typo in NODE_ENV must not silently mean development",
    ).toEqual(["NODE_ENV"]);
    expect(variablesOf(issuesFor({ ...base, LOG_LEVEL: "verbose" }))).toEqual(["LOG_LEVEL"]);
  });
});

describe("booleans", () => {
  it.each(["false", "0", "no", "off", "FALSE", "Off"])(
    "reads %j as false (z.coerce.boolean would call it true)",
    (value) => {
      expect(
        loadConfig({ ...base, TRUST_PROXY: value }).trustProxy,
        `Boolean(${JSON.stringify(value)}) is true: a non-empty string`,
      ).toBe(false);
      expect(loadConfig({ ...base, METRICS_ENABLED: value }).metricsEnabled).toBe(false);
    },
  );

  it.each(["true", "1", "yes", "on", "TRUE", "Yes"])("reads %j as true", (value) => {
    expect(loadConfig({ ...base, TRUST_PROXY: value }).trustProxy).toBe(true);
  });

  it("reports a value that is no boolean instead of guessing", () => {
    for (const value of ["maybe", "2", "truee", "enabled please"]) {
      expect(
        variablesOf(issuesFor({ ...base, TRUST_PROXY: value })),
        `${JSON.stringify(value)} is neither true nor false`,
      ).toEqual(["TRUST_PROXY"]);
    }
  });
});

describe("numbers", () => {
  it("reads PORT from plain decimal digits", () => {
    for (const [value, port] of [
      ["8080", 8080],
      ["1", 1],
      ["65535", 65535],
      ["443", 443],
    ] as const) {
      expect(loadConfig({ ...base, PORT: value }).port).toBe(port);
    }
  });

  it.each(["08080", "0x1F90", "8e3", "80.5", " 8080", "8080 ", "-1", "0", "65536", "eighty"])(
    "refuses PORT=%j, which Number() would bend into something",
    (value) => {
      expect(
        variablesOf(issuesFor({ ...base, PORT: value })),
        `PORT=${JSON.stringify(value)}: refuse it on purpose, do not guess`,
      ).toEqual(["PORT"]);
    },
  );

  it("accepts REQUEST_TIMEOUT_MS from 1 to 600000 and refuses anything else", () => {
    expect(loadConfig({ ...base, REQUEST_TIMEOUT_MS: "1" }).http.requestTimeoutMs).toBe(1);
    expect(loadConfig({ ...base, REQUEST_TIMEOUT_MS: "600000" }).http.requestTimeoutMs).toBe(600_000);
    for (const value of ["0", "600001", "1.5", "10s", "-5"]) {
      expect(variablesOf(issuesFor({ ...base, REQUEST_TIMEOUT_MS: value })), `REQUEST_TIMEOUT_MS=${value}`).toEqual([
        "REQUEST_TIMEOUT_MS",
      ]);
    }
  });
});

describe("CORS_ORIGINS", () => {
  it("splits the list, drops spaces and empty entries, and spells each origin as URL#origin does", () => {
    const config = loadConfig({ ...base, CORS_ORIGINS: " https://a.example/, http://b.example:8443 ,, " });
    expect(config.http.corsOrigins).toEqual(["https://a.example", "http://b.example:8443"]);
  });

  it("refuses an entry that is not a bare http(s) origin, with one issue for the variable", () => {
    const bad = [
      "ftp://files.example",
      "https://a.example/app",
      "https://a.example?x=1",
      "https://a.example#top",
      "https://me@a.example",
      "a.example",
    ];
    for (const value of bad) {
      expect(variablesOf(issuesFor({ ...base, CORS_ORIGINS: value })), `CORS_ORIGINS=${value}`).toEqual([
        "CORS_ORIGINS",
      ]);
    }
    expect(
      variablesOf(issuesFor({ ...base, CORS_ORIGINS: "nope, https://ok.example, still-nope" })),
      "one issue per variable, however many entries are bad",
    ).toEqual(["CORS_ORIGINS"]);
  });
});

describe("every problem at once", () => {
  it("reports every bad variable in one ConfigError whose message names each of them", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "08080", TRUST_PROXY: "maybe", LOG_LEVEL: "loud", REQUEST_TIMEOUT_MS: "0" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.code).toBe("ERR_CONFIG");
    expect(
      variablesOf([...configError.issues]),
      "a deploy that fails on the first problem needs five restarts to find five",
    ).toEqual(["DATABASE_URL", "LOG_LEVEL", "PORT", "REQUEST_TIMEOUT_MS", "TRUST_PROXY"]);
    for (const name of ["DATABASE_URL", "LOG_LEVEL", "PORT", "REQUEST_TIMEOUT_MS", "TRUST_PROXY"]) {
      expect(configError.message, "the start-up log line is all an operator sees").toContain(name);
    }
    for (const issue of configError.issues)
      expect(issue.message.length, `issue for ${issue.variable} says what is wrong`).toBeGreaterThan(0);
  });

  it("requires SESSION_SECRET in production, and says so even when other variables are wrong too", () => {
    expect(variablesOf(issuesFor({ ...base, NODE_ENV: "production" }))).toEqual(["SESSION_SECRET"]);
    expect(
      variablesOf(issuesFor({ ...base, NODE_ENV: "production", PORT: "08080" })),
      "zod skips an object's refinements once a field failed: check this rule so that it is reported with the rest",
    ).toEqual(["PORT", "SESSION_SECRET"]);
    expect(
      variablesOf(issuesFor({ NODE_ENV: "production" })),
      "a missing DATABASE_URL must not hide the production rule",
    ).toEqual(["DATABASE_URL", "SESSION_SECRET"]);
    expect(
      loadConfig({ ...base, NODE_ENV: "test" }).sessionSecret,
      "outside production the secret is optional",
    ).toBeUndefined();
    expect(
      variablesOf(issuesFor({ ...base, SESSION_SECRET: "short" })),
      "a secret shorter than 32 characters is too weak anywhere",
    ).toEqual(["SESSION_SECRET"]);
  });

  it("never repeats a rejected value in a message: it may be a password", () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: "mysql://admin:Pa55-XYZ-leak@db/app",
        SESSION_SECRET: "tooshort-hunter2",
        NODE_ENV: "production",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = `${(error as Error).message}\n${JSON.stringify((error as ConfigError).issues)}\n${inspect(error, { depth: 5 })}`;
    expect(text, "the start-up error goes to the logs: it must not carry the password").not.toContain("Pa55-XYZ-leak");
    expect(text).not.toContain("hunter2");
  });
});

describe("secrets stay secret", () => {
  const config = () => loadConfig({ ...base, SESSION_SECRET });
  const leaks = (text: string) => text.includes("db-pass-7Q2x") || text.includes(SESSION_SECRET);

  it("JSON.stringify, String() and template strings show the secrets redacted", () => {
    const c = config();
    expect(leaks(JSON.stringify(c)), "a config dumped into a JSON log line or a /debug endpoint").toBe(false);
    expect(leaks(String(c.databaseUrl))).toBe(false);
    expect(leaks(`connecting to ${c.databaseUrl}`), "a template string calls toString()").toBe(false);
    const json = JSON.parse(JSON.stringify(c));
    expect(json.port, "redaction hides the secrets, not the rest").toBe(8080);
    expect(
      typeof json.databaseUrl === "string" && json.databaseUrl !== "",
      "a redacted secret still shows that a value is set",
    ).toBe(true);
    expect(String(c.databaseUrl), "String() of a secret is a placeholder, not nothing").not.toMatch(
      /^(|undefined|\[object Object\])$/,
    );
  });

  it("util.inspect and console.log show them redacted, at any depth and with hidden properties", () => {
    const c = config();
    const why = "util.inspect calls [util.inspect.custom]: redact there too";
    expect(leaks(inspect(c, { depth: Infinity, showHidden: true })), why).toBe(false);
    expect(leaks(inspect({ nested: { deeper: [c] } }, { depth: Infinity })), why).toBe(false);
    expect(leaks(format("%s %o %O %j", c.sessionSecret, c, c, c)), "every console format specifier").toBe(false);
    const out = new PassThrough();
    let printed = "";
    out.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    new Console({ stdout: out }).log("config loaded", c, c.databaseUrl);
    expect(printed).toContain("config loaded");
    expect(leaks(printed), "console.log is util.inspect underneath").toBe(false);
  });

  it("pino logs them redacted", () => {
    const lines: string[] = [];
    const logger = pino({ base: null }, { write: (line: string) => lines.push(line) });
    const c = config();
    logger.info({ config: c, url: c.databaseUrl }, "started");
    expect(lines.length).toBe(1);
    expect(leaks(lines[0]!), "a structured logger serialises with JSON: toJSON is what it sees").toBe(false);
    expect(JSON.parse(lines[0]!).config.port).toBe(8080);
  });

  it("keeps the value out of the object's own properties, and reveal() gives it back", () => {
    const secret = new Secret("s3cr3t-value");
    const own = Object.getOwnPropertyNames(secret).map((key) =>
      String((secret as unknown as Record<string, unknown>)[key]),
    );
    expect(
      own.some((value) => value.includes("s3cr3t-value")),
      "Object.keys or a spread would hand it to any serialiser",
    ).toBe(false);
    expect(leaks(JSON.stringify({ ...config() })), "a spread copies the Secret objects, not their values").toBe(false);
    expect(secret.reveal()).toBe("s3cr3t-value");
  });
});

describe("frozen", () => {
  it("freezes the config, its nested object and its array, so no code can change them later", () => {
    const c = loadConfig({ ...base, CORS_ORIGINS: "https://a.example" });
    expect(Object.isFrozen(c), "configuration read once at start-up must not drift at run time").toBe(true);
    expect(Object.isFrozen(c.http), "Object.freeze is shallow: freeze what is inside too").toBe(true);
    expect(Object.isFrozen(c.http.corsOrigins)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }, "an ES module is strict: writing to a frozen object throws").toThrow(TypeError);
    expect(() => (c.http.corsOrigins as string[]).push("https://evil.example")).toThrow(TypeError);
    expect(c.port).toBe(8080);
  });
});
