import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Reporter, SerializedError, TestModule, Vitest } from "vitest/node";
import { readGuardRecords } from "../../vitest/guard-record";
import type { KataTarget } from "../../vitest/target";
import { CheckerError } from "../errors";
import { judge, type ModuleOutcome, type Owner, type UnhandledOutcome } from "./judge";
import type { RunResult } from "./results";
import { endSandboxProcesses, newSandbox, type Sandbox } from "./sandbox";
import { killLiveForks } from "../../vitest/kata-pool";

/** How long a cancelled run's forks get to stop before they are killed. */
const CANCEL_GRACE_MS = 1_000;

export type Target = KataTarget;

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
  /** Grading: hash protected files as they load, and (as root) run the forks sandboxed. */
  grading?: { sandbox: boolean };
  /** Aborting ends the run early: files not finished by then fail as not reached. */
  signal?: AbortSignal;
  /** Test files run at once, when not the config's (KATA_MAX_WORKERS). */
  maxWorkers?: number;
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
  return {
    message: `${kind}${e.message ?? e.name ?? "unknown error"}`,
    file: e.VITEST_TEST_PATH,
    test: e.VITEST_TEST_NAME,
  };
}

export class Collector implements Reporter {
  /** Each file's outcome as it ends, so a run cut short still has what finished. */
  readonly modules = new Map<string, ModuleOutcome>();
  unhandled: UnhandledOutcome[] = [];
  constructor(
    private readonly onFileDone?: (file: string) => void,
    private readonly signal?: AbortSignal,
  ) {}
  onInit(vitest: Vitest): void {
    // Cancelling stops what has not started; a fork stuck in a loop never answers it, so
    // whatever is still alive a moment later is killed.
    const cancel = () => {
      void vitest.cancelCurrentRun("keyboard-input");
      setTimeout(killLiveForks, CANCEL_GRACE_MS).unref();
    };
    if (this.signal?.aborted) cancel();
    else this.signal?.addEventListener("abort", cancel, { once: true });
  }
  onTestModuleEnd(module: TestModule): void {
    this.modules.set(module.moduleId, toOutcome(module));
    this.onFileDone?.(module.moduleId);
  }
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    for (const module of modules) this.modules.set(module.moduleId, toOutcome(module));
    this.unhandled = errors.map(toUnhandled);
    this.onRunEnd?.(modules.map((m) => m.moduleId));
  }
  /** Called after each run (a watch session has many) with the files that ran. */
  onRunEnd?: (files: string[]) => void;
  // Learner output is not part of the report; swallowing it here also keeps a million
  // console.log lines from flooding the terminal.
  onUserConsoleLog(): void {}
}

/** The environment one run hands to vitest's config and forks, and what it must clean up. */
export interface RunSetup {
  env: Record<string, string>;
  reportDir: string;
  canary: string;
  sandbox?: Sandbox;
}

export function prepareRun(options: Pick<RunOptions, "env" | "target" | "grading">): RunSetup {
  const reportDir = mkdtempSync(path.join(os.tmpdir(), "kata-run-"));
  // Unguessable, so learner code cannot tell the must-fail tests apart by a name it knows.
  const canary = `${randomBytes(6).toString("hex")}`;
  const env: Record<string, string> = {
    ...options.env,
    KATA_TARGET: options.target,
    KATA_REPORT_DIR: reportDir,
    KATA_CANARY: canary,
    KATA_NO_STACKS: "1",
  };
  let sandbox: Sandbox | undefined;
  if (options.grading) {
    env.KATA_LOCKED_LOADS = "1";
    if (options.grading.sandbox) {
      sandbox = newSandbox(reportDir);
      // Others may pass through (to their own folder below), not list or read.
      chmodSync(reportDir, 0o711);
      mkdirSync(sandbox.tmpRoot, { mode: 0o711 });
      chmodSync(sandbox.tmpRoot, 0o711);
      env.KATA_SANDBOX_UID_BASE = String(sandbox.uidBase);
      env.KATA_SANDBOX_DIR = sandbox.tmpRoot;
    }
  }
  return { env, reportDir, canary, ...(sandbox ? { sandbox } : {}) };
}

/** Sets variables for the duration of `work` (the config and the forks read process.env), then restores them. */
export async function withEnv<T>(vars: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(vars)) {
    saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  const exitCode = process.exitCode;
  try {
    return await work();
  } finally {
    process.exitCode = exitCode;
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/**
 * Runs the given test files against a target through vitest's Node API and returns one
 * verdict per test. Nothing is copied: the target only changes how vitest resolves imports.
 */
export async function runTests(options: RunOptions): Promise<RunResult> {
  const files = [...options.owners.keys()];
  const setup = prepareRun(options);
  const collector = new Collector(options.onFileDone, options.signal);
  try {
    await withEnv(setup.env, async () => {
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
          ...(options.oneFileAtATime
            ? { maxWorkers: 1, fileParallelism: false }
            : options.maxWorkers
              ? { maxWorkers: options.maxWorkers }
              : {}),
        },
        { logLevel: "silent" },
      );
      // Cancelling stops what has not started; a fork stuck in a loop never answers it, so
      // whatever is still alive a moment later is killed.
      await vitest.close();
    });
    // Nothing a sandboxed fork started may outlive the run: a detached grandchild would
    // otherwise rewrite the results after the grader is gone.
    if (setup.sandbox) await endSandboxProcesses(setup.sandbox);
    if (collector.modules.size === 0 && !options.signal?.aborted) {
      throw new CheckerError(
        "E_NO_TESTS",
        `vitest ran none of the ${files.length} selected test files (is vitest.config.ts the course's own?)`,
        "git checkout -- vitest.config.ts",
      );
    }
    const guards = readGuardRecords(setup.reportDir);
    return judge({
      root: options.root,
      owners: options.owners,
      modules: [...collector.modules.values()],
      unhandled: collector.unhandled,
      guards,
      canary: setup.canary,
      ...(options.signal?.aborted ? { cutShort: "grading reached its time limit before this file finished" } : {}),
    });
  } finally {
    if (setup.sandbox) await endSandboxProcesses(setup.sandbox);
    rmSync(setup.reportDir, { recursive: true, force: true });
  }
}
