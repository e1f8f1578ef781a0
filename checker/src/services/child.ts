import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { withTimeout } from "./timing";

/** How much of a child's output is kept for error messages. */
const OUTPUT_TAIL_CHARS = 4_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the process could not be started at all (ENOENT, EACCES) */
  error?: Error;
}

/** A server process this run started: its output tail, its exit, and a bounded stop. */
export interface ManagedChild {
  readonly pid: number | undefined;
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** The last few thousand characters of stdout and stderr together. */
  output(): string;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILL. Resolves once the process is gone. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

// Last-resort cleanup: if the checker exits without calling stop() (an uncaught error, a
// process.exit), kill what it started and remove its temp dirs, synchronously, since
// nothing async runs in an 'exit' handler.
const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
    for (const dir of tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Best effort: the process is going away anyway.
      }
    }
  });
}

/** Removes `dir` when the checker exits, unless `removeTempDir` removed it before. */
export function trackTempDir(dir: string): void {
  installExitHook();
  tempDirs.add(dir);
}

/** Removes a tracked temp dir now. */
export async function removeTempDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

// The exit hook cannot run when the checker is killed (SIGKILL, a CI job cancelled): then a
// small watcher, started beside each server, ends it and removes its folder once the
// checker is gone. It polls the checker's pid; it exits by itself when the server does.
const WATCHER = [
  'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done',
  'kill -TERM "$2" 2>/dev/null; sleep 2; kill -KILL "$2" 2>/dev/null',
  '[ -n "$3" ] && rm -rf "$3"',
].join("; ");

/** Starts the watcher that ends `pid` (and removes `dir`) when this process dies without cleaning up. */
export function watchForParentDeath(pid: number, dir?: string): void {
  if (process.platform === "win32") return;
  try {
    const watcher = spawn("/bin/sh", ["-c", WATCHER, "kata-reaper", String(process.pid), String(pid), dir ?? ""], {
      detached: true,
      stdio: "ignore",
    });
    watcher.on("error", () => {});
    watcher.unref();
  } catch {
    // No shell: the exit hook still covers every ending but a kill.
  }
}

/** Spawns a long-running server process, keeping the tail of its output and tracking it for cleanup. */
export function spawnManaged(
  binary: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; cleanupDir?: string } = {},
): ManagedChild {
  installExitHook();
  const child = spawn(binary, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveChildren.add(child);
  if (child.pid !== undefined) watchForParentDeath(child.pid, options.cleanupDir);
  // The checker must never hang at exit because a server it started is still running (a
  // runner that forgot stopAll): the child and its pipes do not hold the event loop, and
  // the exit hook above kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let done = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    // on, not once: a later 'error' (a failed kill) without a listener would crash the checker.
    child.on("error", (error) => {
      // 'error' without 'exit' means it never started; with 'exit' the exit wins below.
      if (child.pid === undefined) {
        done = true;
        liveChildren.delete(child);
        resolve({ code: null, signal: null, error });
      }
    });
    child.once("exit", (code, signal) => {
      done = true;
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });

  return {
    pid: child.pid,
    exited,
    hasExited: () => done,
    output: () => tail.trim(),
    stop: async (signal, graceMs) => {
      if (done) return;
      child.kill(signal);
      // keepAlive: the child is unref'd, so these timers are what keeps a caller that
      // awaits stop() alive until the process is really gone.
      try {
        await withTimeout(exited, graceMs, "graceful stop", undefined, { keepAlive: true });
      } catch {
        child.kill("SIGKILL");
        await withTimeout(exited, 2_000, "kill", undefined, { keepAlive: true }).catch(() => {});
      }
    },
  };
}

/** Runs a command to completion (initdb), killing it after `timeoutMs`; resolves with its exit and output. */
export async function runCommand(
  binary: string,
  args: readonly string[],
  timeoutMs: number,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ExitStatus & { output: string; timedOut: boolean }> {
  const child = spawnManaged(binary, args, options);
  try {
    const status = await withTimeout(child.exited, timeoutMs, `${binary}`, undefined, { keepAlive: true });
    return { ...status, output: child.output(), timedOut: false };
  } catch {
    await child.stop("SIGKILL", 1_000);
    return { code: null, signal: "SIGKILL", output: child.output(), timedOut: true };
  }
}

/** One short line describing how a process ended, for messages. */
export function describeExit(status: ExitStatus): string {
  if (status.error) return `could not start (${status.error.message})`;
  if (status.signal) return `killed by ${status.signal}`;
  return `exited with code ${status.code}`;
}

/** The last non-empty lines of a process's output, on one line, for messages. */
export function lastLines(output: string, count = 3): string {
  return (
    output
      .split("\n")
      .filter((line) => line.trim().length > 0)
      .slice(-count)
      .join(" | ") || "(no output)"
  );
}
