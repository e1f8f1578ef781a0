import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Reporter, SerializedError, TestModule } from "vitest/node";
import { CheckerError } from "../errors";
import { readGuardRecords } from "./guard-records";
import { judge, type ModuleOutcome, type Owner, type UnhandledOutcome } from "./judge";
import type { RunResult } from "./results";

export type Target = "exercises" | "solution";

export interface RunOptions {
  root: string;
  target: Target;
  /** Absolute test file paths and the kata each belongs to. */
  owners: Map<string, Owner>;
  /** Extra environment for the test processes (service URLs). */
  env?: Record<string, string>;
  /** Called as each file finishes, for progress output. */
  onFileDone?: (file: string) => void;
  /** Run one test file at a time (an embedded Postgres has one session for everyone). */
  oneFileAtATime?: boolean;
}

function firstLine(error: SerializedError | undefined): string | undefined {
  if (!error) return undefined;
  const message = error.message ?? String(error);
  const diff = (error as { diff?: string }).diff;
  return diff ? `${message}\n${diff}` : message;
}

function toOutcome(module: TestModule): ModuleOutcome {
  return {
    file: module.moduleId,
    state: module.state(),
    errors: module.errors().map((e) => firstLine(e) ?? "error"),
    tests: [...module.children.allTests()].map((test) => {
      const result = test.result();
      return {
        name: test.fullName,
        state: result.state,
        message: result.state === "failed" ? firstLine(result.errors[0]) : undefined,
        durationMs: test.diagnostic()?.duration ?? 0,
      };
    }),
  };
}

function toUnhandled(error: SerializedError): UnhandledOutcome {
  const e = error as SerializedError & { VITEST_TEST_PATH?: string; VITEST_TEST_NAME?: string; type?: string };
  const kind = e.type ? `${e.type}: ` : "";
  return { message: `${kind}${e.message ?? e.name ?? "unknown error"}`, file: e.VITEST_TEST_PATH, test: e.VITEST_TEST_NAME };
}

class Collector implements Reporter {
  modules: ModuleOutcome[] = [];
  unhandled: UnhandledOutcome[] = [];
  constructor(private readonly onFileDone?: (file: string) => void) {}
  onTestModuleEnd(module: TestModule): void {
    this.onFileDone?.(module.moduleId);
  }
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    this.modules = modules.map(toOutcome);
    this.unhandled = errors.map(toUnhandled);
  }
  // Learner output is not part of the report; swallowing it here also keeps a million
  // console.log lines from flooding the terminal.
  onUserConsoleLog(): void {}
}

/**
 * Runs the given test files against a target through vitest's Node API and returns one
 * verdict per test. Nothing is copied: the target only changes how vitest resolves imports.
 */
export async function runTests(options: RunOptions): Promise<RunResult> {
  const files = [...options.owners.keys()];
  const reportDir = mkdtempSync(path.join(os.tmpdir(), "kata-run-"));
  const collector = new Collector(options.onFileDone);
  const saved = { target: process.env.KATA_TARGET, report: process.env.KATA_REPORT_DIR, exitCode: process.exitCode };
  const savedEnv = new Map<string, string | undefined>();
  // The config reads the target when vitest loads it; the forks inherit the environment.
  process.env.KATA_TARGET = options.target;
  process.env.KATA_REPORT_DIR = reportDir;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    savedEnv.set(key, process.env[key]);
    process.env[key] = value;
  }
  try {
    const { startVitest } = await import("vitest/node");
    const vitest = await startVitest(
      "test",
      files,
      {
        config: path.join(options.root, "vitest.config.ts"),
        root: options.root,
        project: ["course"],
        watch: false,
        reporters: [collector],
        passWithNoTests: true,
        ...(options.oneFileAtATime ? { maxWorkers: 1, fileParallelism: false } : {}),
      },
      { logLevel: "silent" },
    );
    await vitest.close();
    if (collector.modules.length === 0) {
      throw new CheckerError("E_NO_TESTS", `vitest ran none of the ${files.length} selected test files (is vitest.config.ts the course's own?)`, "git checkout -- vitest.config.ts");
    }
    const guards = readGuardRecords(reportDir);
    const { tests, notes } = judge({ root: options.root, owners: options.owners, modules: collector.modules, unhandled: collector.unhandled, guards });
    return { tests, notes };
  } finally {
    process.exitCode = saved.exitCode;
    restore("KATA_TARGET", saved.target);
    restore("KATA_REPORT_DIR", saved.report);
    for (const [key, value] of savedEnv) restore(key, value);
    rmSync(reportDir, { recursive: true, force: true });
  }
}

function restore(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}
