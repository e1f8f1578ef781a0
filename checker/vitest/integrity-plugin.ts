import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { init as lexerReady, parse as parseImports } from "es-module-lexer";
import type { Plugin } from "vite";
import { writeGuardRecord } from "./guard-record.ts";

// Runs in the vitest main process, which transforms every module a test fork loads: the one
// place learner code cannot reach. Three jobs:
// - what a learner's file may import: not the test runner, the tests, the checker or the
//   reference solutions (a kata that re-exports the solution would otherwise pass);
// - integrity at load time: a protected file (a test, a fixture, a setup file) is hashed as
//   it is loaded and compared with the course lock, so a copy weakened during the run and
//   restored afterwards is caught where it matters, when it runs;
// - canaries: each test file gets tests that must fail; the judge treats a file where one
//   passed as one whose test runtime was tampered with.

/** Packages that are the test runtime: learner code importing them could rewrite verdicts. */
const RUNTIME_PACKAGES =
  /^(vitest|@vitest\/[^/]+|vite|chai|tinyspy|tinybench|expect-type|@stryker-mutator\/[^/]+)(\/|$)/;
/** Built-ins that reach into the process's internals: a debugger session, a require that bypasses the resolver. */
const RUNTIME_BUILTINS = new Set(["inspector", "inspector/promises", "module"]);

export interface IntegrityOptions {
  root: string;
  /** Protected files (relative path -> sha256) to check as they load; none outside grading. */
  locked?: Readonly<Record<string, string>>;
  /** The name prefix of the must-fail tests added to each test file; none outside checker runs. */
  canary?: string;
  /** Where refusals are recorded for the judge. */
  reportDir?: string;
}

function isUnder(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir + path.sep);
}

/** exercises/<week>/src/...: code the learner wrote. */
function learnerFile(root: string, file: string): string | undefined {
  const rel = path.relative(root, file);
  const parts = rel.split(path.sep);
  return parts[0] === "exercises" && parts[2] === "src" ? rel : undefined;
}

function forbiddenTarget(root: string, resolved: string): string | undefined {
  const file = resolved.split("?")[0]!;
  if (isUnder(file, path.join(root, "solutions"))) return "the reference solutions";
  if (isUnder(file, path.join(root, "checker")) && !isUnder(file, path.join(root, "checker", "kata")))
    return "the checker";
  if (/[\\/]exercises[\\/][^\\/]+[\\/]tests[\\/]/.test(file) && isUnder(file, path.join(root, "exercises")))
    return "the tests";
  const inModules = /[\\/]node_modules[\\/](.+)$/.exec(file)?.[1];
  if (inModules && RUNTIME_PACKAGES.test(inModules.split(path.sep).join("/"))) return "the test runner";
  return undefined;
}

const CANARY_CASES = [
  // Object.is behind toBe, deep equality behind toEqual, and a plain throw behind every test.
  "__canary_expect(1).toBe(2);",
  "__canary_expect({ value: 1 }).toEqual({ value: 2 });",
  'throw new Error("canary");',
];

function canaryCode(prefix: string): string {
  const tests = CANARY_CASES.map(
    (body, i) => `__canary_it(${JSON.stringify(`${prefix} ${i + 1}`)}, () => { ${body} });`,
  );
  return `\nimport { it as __canary_it, expect as __canary_expect } from "vitest";\n${tests.join("\n")}\n`;
}

/** What an import names, when learner code may not have it: node built-ins never reach resolveId. */
function forbiddenBuiltin(specifier: string): string | undefined {
  const bare = specifier.replace(/^node:/, "");
  return RUNTIME_BUILTINS.has(bare) ? "a way into the process's internals" : undefined;
}

export function integrityPlugin(options: IntegrityOptions): Plugin[] {
  const { root, locked, canary, reportDir } = options;
  const refuse = (importer: string, what: string, source: string): never => {
    const message = `${importer} imports ${source}, which is ${what}: a kata's code may not use ${what}; the kata scores 0`;
    writeGuardRecord(reportDir, { kind: "refused-import", file: importer, test: null, message });
    throw new Error(message);
  };

  const pre: Plugin = {
    name: "kata-integrity",
    enforce: "pre",
    async resolveId(source, importer) {
      if (!importer) return null;
      const learner = learnerFile(root, importer.split("?")[0]!);
      if (!learner) return null;
      if (source.startsWith("node:") || forbiddenBuiltin(source)) return null;
      if (RUNTIME_PACKAGES.test(source)) refuse(learner, "the test runner", source);
      const resolved = await this.resolve(source, importer, { skipSelf: true });
      const what = resolved && !resolved.external ? forbiddenTarget(root, resolved.id) : undefined;
      if (what) refuse(learner, what, source);
      return resolved;
    },
    load(id) {
      if (!locked) return null;
      const file = id.split("?")[0]!;
      if (!path.isAbsolute(file)) return null;
      const rel = path.relative(root, file).split(path.sep).join("/");
      const expected = locked[rel];
      if (expected === undefined) return null;
      // Read once: the bytes hashed are the bytes that run.
      const code = readFileSync(file, "utf8");
      if (createHash("sha256").update(code).digest("hex") !== expected) {
        const message = `${rel} differs from the course's copy recorded in course.lock.json; grading does not run a modified specification`;
        writeGuardRecord(reportDir, { kind: "tampered-file", file: rel, test: null, message });
        throw new Error(message);
      }
      return code;
    },
    transform(code, id) {
      if (!canary) return null;
      const file = id.split("?")[0]!;
      const rel = path.relative(root, file).split(path.sep);
      if (rel[0] !== "exercises" || rel[2] !== "tests" || !file.endsWith(".test.ts")) return null;
      return { code: code + canaryCode(canary), map: null };
    },
  };
  // Node's built-ins are externalized before any plugin resolves them, so a learner's file is
  // read for them once it is JavaScript: its static imports and literal dynamic ones.
  const post: Plugin = {
    name: "kata-integrity-builtins",
    enforce: "post",
    async transform(code, id) {
      const learner = learnerFile(root, id.split("?")[0]!);
      if (!learner) return null;
      await lexerReady;
      const [imports] = parseImports(code);
      for (const { n: specifier } of imports) {
        const what = specifier === undefined ? undefined : forbiddenBuiltin(specifier);
        if (what) refuse(learner, what, specifier!);
      }
      return null;
    },
  };
  return [pre, post];
}
