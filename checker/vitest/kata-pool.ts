import { type ChildProcess, fork } from "node:child_process";
import { chownSync, mkdirSync } from "node:fs";
import path from "node:path";
import { generateFileHash } from "@vitest/runner/utils";
import type { PoolOptions, PoolWorker, WorkerRequest } from "vitest/node";
import { type GuardKind, writeGuardRecord } from "./guard-record.ts";
import { processTreeRss } from "./process-tree.ts";
import { rpcRequestAllowed } from "./rpc-filter.ts";
import { setting, type PoolSettings } from "./settings.ts";

// The test forks, run from the vitest main process, where learner code never runs. Vitest's
// own forks pool would do, but the grader must enforce some things from outside the fork:
// learner code runs inside it with the fork's rights, so whatever it must not be able to
// switch off lives here. Per fork (one test file, vitest isolates files):
// - the sandbox: started as an unprivileged user of its own, with a private TMPDIR and HOME;
// - output: stdout and stderr are pipes read here, capped per file at the descriptor level;
// - time: a bound per file (more tests, more time), enforced with SIGKILL;
// - memory: resident memory of the fork and its children, polled and capped;
// - the RPC: requests a fork may not make (cancelling the whole run) and reports about
//   another file's tasks are dropped, and the file fails for trying.

export const POOL_NAME = "kata-forks";

const MEMORY_POLL_MS = 250;

/** A counter shared by every worker of this process: each fork gets a uid of its own. */
let nextFork = 0;

/**
 * The forks alive in this process, for the checker that runs vitest in-process: a run cut
 * short (the time limit) kills what cancelling cannot reach, a fork stuck in a loop. Held on
 * globalThis because the checker and this module (loaded by vitest's config loader) are
 * separate module instances; only the main process, where no learner code runs, sees it.
 */
const LIVE_FORKS = Symbol.for("kata.pool.live-forks");
function liveForks(): Set<{ kill(): void }> {
  const holder = globalThis as unknown as Record<symbol, Set<{ kill(): void }> | undefined>;
  return (holder[LIVE_FORKS] ??= new Set());
}

/** Kills every test fork this process started that is still alive; returns how many. */
export function killLiveForks(): number {
  const forks = [...liveForks()];
  for (const fork of forks) fork.kill();
  return forks.length;
}

/**
 * The fork started ahead of need, with what it was started for. It keeps nothing alive (its
 * process, channel and pipes are unref'd) and dies with this process.
 */
interface Spare {
  key: string;
  child: ChildProcess;
}
const SPARE = Symbol.for("kata.pool.spare-fork");
const SPARE_EXIT_HOOK = Symbol.for("kata.pool.spare-exit-hook");
const spareHolder = globalThis as unknown as Record<symbol, Spare | boolean | undefined> & {
  [SPARE]?: Spare;
  [SPARE_EXIT_HOOK]?: boolean;
};

function keepSpare(key: string, start: () => ChildProcess): void {
  if (spareHolder[SPARE] !== undefined) return;
  const child = start();
  child.unref();
  child.channel?.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  spareHolder[SPARE] = { key, child };
  // A spare that dies waiting (or outlives the watch session) is simply gone.
  child.once("exit", () => {
    if (spareHolder[SPARE]?.child === child) spareHolder[SPARE] = undefined;
  });
  // One listener for the process, whichever spare is current (a watch session makes many).
  if (!spareHolder[SPARE_EXIT_HOOK]) {
    spareHolder[SPARE_EXIT_HOOK] = true;
    process.once("exit", dropSpareFork);
  }
}

/** The spare, if it was started for the same script, arguments and environment and is still alive. */
function takeSpare(key: string): ChildProcess | undefined {
  const spare = spareHolder[SPARE];
  spareHolder[SPARE] = undefined;
  if (spare === undefined) return undefined;
  if (spare.key !== key || spare.child.exitCode !== null || !spare.child.connected) {
    spare.child.kill("SIGKILL");
    return undefined;
  }
  spare.child.ref();
  spare.child.channel?.ref();
  for (const stream of [spare.child.stdout, spare.child.stderr]) (stream as { ref?: () => void } | null)?.ref?.();
  return spare.child;
}

/** Ends the spare fork (the watch session closing). */
export function dropSpareFork(): void {
  spareHolder[SPARE]?.child.kill("SIGKILL");
  spareHolder[SPARE] = undefined;
}

interface FileUnderTest {
  path: string;
  id: string;
}

class KataForksWorker implements PoolWorker {
  readonly name = POOL_NAME;
  readonly cacheFs = true;
  private child: ChildProcess | undefined;
  private readonly listeners = new Map<(arg: unknown) => void, (arg: unknown) => void>();
  private files: FileUnderTest[] = [];
  private outputUsed = 0;
  private outputTold = false;
  private boundTimer: NodeJS.Timeout | undefined;
  private memoryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Set when this side ends the fork, so its exit is not reported as a crash. */
  private ending = false;
  private readonly index = nextFork++;

  constructor(
    private readonly options: PoolOptions,
    private readonly settings: PoolSettings,
  ) {}

  private get reportDir(): string | undefined {
    return setting("KATA_REPORT_DIR", this.options.env);
  }

  private record(kind: GuardKind, message: string): void {
    for (const file of this.files.length > 0 ? this.files : [{ path: null, id: "" }]) {
      writeGuardRecord(this.reportDir, { kind, file: file.path, test: null, message });
    }
  }

  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...this.options.env };
    const spawnOptions: Parameters<typeof fork>[2] = {
      execArgv: this.options.execArgv,
      stdio: "pipe",
      serialization: "advanced",
    };
    const sandbox = this.settings.sandbox;
    if (sandbox) {
      const uid = sandbox.uidBase + this.index;
      // A private, writable home for this uid: learner code may write temp files, nothing else.
      // Its guards' records go there too: the run's report folder is not the fork's to write.
      const home = path.join(sandbox.tmpRoot, String(uid));
      const records = path.join(home, "records");
      mkdirSync(records, { recursive: true, mode: 0o700 });
      for (const dir of [home, records]) chownSync(dir, uid, uid);
      Object.assign(env, { TMPDIR: home, HOME: home, KATA_SANDBOX_UID: String(uid), KATA_REPORT_DIR: records });
      Object.assign(spawnOptions, { uid, gid: uid });
    }
    const script = path.resolve(this.options.distPath, "workers/forks.js");
    const start = () => fork(script, [], { ...spawnOptions, env });
    // In watch mode a fork costs most of a re-run (Node and vitest's worker starting: half a
    // second on a busy machine), so one is started ahead, while the learner is typing.
    const spareKey = JSON.stringify([script, spawnOptions.execArgv, env]);
    const child = (!sandbox && takeSpare(spareKey)) || start();
    // The next one starts once this fork is done: started now, it would take CPU from this run.
    if (!sandbox && this.settings.warmSpare) child.once("exit", () => keepSpare(spareKey, start));
    this.child = child;
    liveForks().add(this);
    child.stdout?.on("data", (chunk: Buffer) => this.forward(chunk, process.stdout));
    child.stderr?.on("data", (chunk: Buffer) => this.forward(chunk, process.stderr));
    child.once("exit", (code, signal) => {
      liveForks().delete(this);
      this.clearTimers();
      // Vitest only says the worker exited; the cause is worth naming.
      if (!this.ending && this.files.length > 0 && (signal !== null || code !== 0))
        this.record("fork-exit", describeForkExit(code, signal));
    });
    this.memoryTimer = setInterval(() => this.checkMemory(), MEMORY_POLL_MS);
    this.memoryTimer.unref();
  }

  /** Everything the fork writes to fd 1 and 2 passes here: up to the budget, then one line, then nothing. */
  private forward(chunk: Buffer, to: NodeJS.WriteStream): void {
    const budget = this.settings.outputBudgetBytes;
    const room = budget - this.outputUsed;
    this.outputUsed += chunk.length;
    if (room > 0) to.write(room >= chunk.length ? chunk : chunk.subarray(0, room));
    // The chunk that crosses the budget says so at once: it may be the last one the fork sends.
    if (room < chunk.length && !this.outputTold) {
      this.outputTold = true;
      const which =
        this.files.map((f) => path.relative(this.options.project.config.root, f.path)).join(", ") || "a test file";
      to.write(`\n[kata] the output of ${which} passed ${budget} bytes; the rest is dropped\n`);
    }
  }

  /** console.* reaches the main process as RPC calls, not through fd 1: the same budget applies. */
  private capConsole(message: unknown): void {
    const m = message as { t?: unknown; m?: unknown; a?: unknown[] } | null;
    if (m?.t !== "q" || m.m !== "onUserConsoleLog" || !Array.isArray(m.a)) return;
    const log = m.a[0] as { content?: unknown } | undefined;
    if (!log || typeof log.content !== "string") return;
    this.outputUsed += log.content.length;
    if (this.outputUsed > this.settings.outputBudgetBytes) log.content = "";
  }

  private checkMemory(): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) return;
    const rss = processTreeRss(pid);
    if (rss <= this.settings.rssCapBytes) return;
    const mb = Math.round(rss / 2 ** 20);
    this.record(
      "memory-cap",
      `your code used ${mb} MB of memory (the cap is ${Math.round(this.settings.rssCapBytes / 2 ** 20)} MB per test file); the test process was stopped`,
    );
    this.kill();
  }

  private armBound(tests: number | undefined): void {
    if (this.boundTimer) clearTimeout(this.boundTimer);
    const { fileBoundMinMs, fileBoundPerTestMs } = this.settings;
    const boundMs = Math.max(fileBoundMinMs, (tests ?? 0) * fileBoundPerTestMs);
    this.boundTimer = setTimeout(() => {
      this.record(
        "file-bound",
        `did not finish within ${Math.round(boundMs / 1000)} s (the bound of a test file with ${tests ?? "its"} tests); the test process was stopped`,
      );
      this.kill();
    }, boundMs);
    this.boundTimer.unref();
  }

  /** Ends the fork from this side: its exit is then not reported as a crash. */
  kill(): void {
    this.ending = true;
    this.clearTimers();
    this.child?.kill("SIGKILL");
  }

  private clearTimers(): void {
    clearTimeout(this.boundTimer);
    clearInterval(this.memoryTimer);
  }

  send(message: WorkerRequest): void {
    if (message.type === "run" || message.type === "collect") {
      const root = this.options.project.config.root;
      this.files = message.context.files.map((f) => ({
        path: f.filepath,
        id: generateFileHash(path.relative(root, f.filepath), this.options.project.name),
      }));
      this.armBound(undefined);
    }
    this.child?.send(message);
  }

  on(event: string, callback: (arg: unknown) => void): void {
    if (event !== "message") {
      this.child?.on(event, callback);
      return;
    }
    // Messages from the fork are where learner code could speak for the runner: check each
    // request before vitest sees it.
    const guarded = (message: unknown) => {
      this.capConsole(message);
      const verdict = rpcRequestAllowed(message, this.files);
      if (verdict.allowed) {
        if (verdict.tests !== undefined) this.armBound(verdict.tests);
        callback(message);
        return;
      }
      this.record(
        "forged-report",
        `your code sent the test runner a message it may not send (${verdict.reason}); the test process was stopped`,
      );
      this.kill();
    };
    this.listeners.set(callback, guarded);
    this.child?.on("message", guarded);
  }

  off(event: string, callback: (arg: unknown) => void): void {
    const registered = event === "message" ? this.listeners.get(callback) : callback;
    if (registered) this.child?.off(event, registered);
    if (event === "message") this.listeners.delete(callback);
  }

  deserialize(data: unknown): unknown {
    return data;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.clearTimers();
    if (!child || this.stopped) return;
    this.stopped = true;
    this.ending = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // A fork that ignores SIGTERM (learner code may trap it) is killed.
    const force = setTimeout(() => child.kill("SIGKILL"), 500);
    child.kill("SIGTERM");
    await exited;
    clearTimeout(force);
  }
}

function describeForkExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === "SIGABRT" || code === 134)
    return "the test process was aborted (SIGABRT): V8 does that when a process runs out of heap, an allocation that never stops?";
  if (signal === "SIGKILL")
    return "the test process was killed (SIGKILL), from outside the test runner (the system's out-of-memory killer?)";
  if (signal) return `the test process ended by ${signal}`;
  return `the test process exited with code ${code} before its tests finished`;
}

/** The pool the course project runs its test files in (see the comment at the top). */
export function kataPool(settings: PoolSettings): {
  name: string;
  createPoolWorker: (options: PoolOptions) => PoolWorker;
} {
  return { name: POOL_NAME, createPoolWorker: (options) => new KataForksWorker(options, settings) };
}
