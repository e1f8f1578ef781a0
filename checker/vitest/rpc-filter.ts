// What a test fork may say to the vitest main process. The fork's side of the RPC is reachable
// from learner code (process.send is a global), so the main process checks every request:
// only the methods a test run needs, and reports only about the fork's own test files. A
// fork that speaks for another file could fail an honest kata or pass an unfinished one.

/** The runner methods a test fork calls (vitest 4's createMethodsRPC), minus onCancel, which would stop the whole run. */
const ALLOWED_METHODS = new Set([
  "fetch",
  "resolve",
  "transform",
  "snapshotSaved",
  "resolveSnapshotPath",
  "onQueued",
  "onCollected",
  "onAfterSuiteRun",
  "onTaskArtifactRecord",
  "onTaskUpdate",
  "onUserConsoleLog",
  "onUnhandledError",
  "onAsyncLeaks",
  "getCountOfFailedTests",
  "ensureModuleGraphEntry",
]);

export type RpcVerdict = { allowed: true; tests?: number } | { allowed: false; reason: string };

interface TaskLike {
  id?: unknown;
  type?: unknown;
  tasks?: unknown;
}

function ownsTask(id: unknown, fileIds: readonly string[]): boolean {
  return typeof id === "string" && fileIds.some((f) => id === f || id.startsWith(`${f}_`));
}

/** Every task id in a collected tree belongs to the fork's files; the number of tests found. */
function checkTree(task: TaskLike, fileIds: readonly string[]): { ok: boolean; tests: number } {
  if (!ownsTask(task.id, fileIds)) return { ok: false, tests: 0 };
  let tests = task.type === "test" ? 1 : 0;
  for (const child of Array.isArray(task.tasks) ? (task.tasks as TaskLike[]) : []) {
    const sub = checkTree(child, fileIds);
    if (!sub.ok) return sub;
    tests += sub.tests;
  }
  return { ok: true, tests };
}

function idsOf(entries: unknown): unknown[] {
  return Array.isArray(entries) ? entries.map((e) => (Array.isArray(e) ? e[0] : undefined)) : [];
}

/**
 * Judges one message from a fork running the given files (vitest file id and absolute path). Worker responses
 * and RPC answers pass; RPC requests pass when their method is allowed and every task they
 * mention is the fork's own.
 */
export function rpcRequestAllowed(message: unknown, files: readonly { id: string; path: string }[]): RpcVerdict {
  const fileIds = files.map((f) => f.id);
  if (typeof message !== "object" || message === null) return { allowed: true };
  const m = message as { t?: unknown; m?: unknown; a?: unknown };
  if (m.t !== "q") return { allowed: true };
  const method = String(m.m);
  if (!ALLOWED_METHODS.has(method)) return { allowed: false, reason: `the runner method "${method}"` };
  const args = Array.isArray(m.a) ? m.a : [];
  const foreign = { allowed: false as const, reason: `a report about a task of another test file (${method})` };
  switch (method) {
    case "onQueued":
      return ownsTask((args[0] as TaskLike | undefined)?.id, fileIds) ? { allowed: true } : foreign;
    case "onCollected": {
      let tests = 0;
      for (const file of Array.isArray(args[0]) ? (args[0] as TaskLike[]) : []) {
        const checked = checkTree(file, fileIds);
        if (!checked.ok) return foreign;
        tests += checked.tests;
      }
      return { allowed: true, tests };
    }
    case "onTaskUpdate":
      return [...idsOf(args[0]), ...idsOf(args[1])].every((id) => ownsTask(id, fileIds)) ? { allowed: true } : foreign;
    case "onTaskArtifactRecord":
      return ownsTask(args[0], fileIds) ? { allowed: true } : foreign;
    case "onUnhandledError": {
      // The main process files an unhandled error under the test file it names.
      const named = (args[0] as { VITEST_TEST_PATH?: unknown } | undefined)?.VITEST_TEST_PATH;
      return named === undefined || files.some((f) => f.path === named) ? { allowed: true } : foreign;
    }
    default:
      return { allowed: true };
  }
}
