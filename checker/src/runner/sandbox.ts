import { randomInt } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { processesOfUids, signalAll } from "../../vitest/process-tree";
import { CheckerError } from "../errors";

// Grading as root: every test fork starts as an unprivileged uid of its own (the pool does
// that), so learner code can write nothing of the repository, node_modules or the results,
// and cannot signal the grader or another fork. This module picks the uids, checks that
// such a user can read the course, and ends every process of those uids after a run.

/** Uids with no account, far above any real user: one block of them per run. */
const UID_FLOOR = 1_000_000;
export const UIDS_PER_RUN = 10_000;

export interface Sandbox {
  uidBase: number;
  /** Inside the run's report folder: the forks' private TMPDIR and HOME. */
  tmpRoot: string;
}

/** A block of uids no other run on this machine is likely to use at the same time. */
export function newSandbox(reportDir: string): Sandbox {
  return { uidBase: UID_FLOOR + randomInt(0, 1000) * UIDS_PER_RUN, tmpRoot: path.join(reportDir, "sandbox") };
}

/** Whether the grader may use the sandbox here: it needs root to start processes as another user. */
export function sandboxAvailable(): boolean {
  return process.platform === "linux" && process.getuid?.() === 0;
}

/**
 * A sandboxed fork reads the course (tests, node_modules) as "other": every folder from / to
 * the root must let others through, and the course's files must be readable by them. A sample
 * reached through a symlink (node_modules linked from elsewhere) needs the folders to its real
 * place open too; a fork that cannot load vitest would otherwise wait out its time bound.
 */
export function assertReadableByOthers(root: string, samples: readonly string[]): void {
  const blocked: string[] = [];
  const folders = new Set<string>();
  const withAncestors = (start: string) => {
    for (let dir = start; ; dir = path.dirname(dir)) {
      folders.add(dir);
      if (path.dirname(dir) === dir) break;
    }
  };
  withAncestors(path.resolve(root));
  const unreadable: string[] = [];
  for (const file of samples) {
    let real: string;
    try {
      real = realpathSync(path.join(root, file));
    } catch {
      continue; // A missing sample says nothing about permissions.
    }
    withAncestors(path.dirname(real));
    if ((statSync(real).mode & 0o004) === 0) unreadable.push(`${file} (others cannot read it)`);
  }
  for (const dir of folders) if ((statSync(dir).mode & 0o001) === 0) blocked.push(`${dir} (others cannot enter it)`);
  blocked.push(...unreadable);
  if (blocked.length > 0) {
    throw new CheckerError(
      "E_SANDBOX",
      `grading runs learner code as an unprivileged user, who cannot read the course: ${blocked.slice(0, 3).join("; ")}`,
      `chmod -R a+rX ${root} (and a+x on its parent folders), or grade with --no-sandbox`,
    );
  }
}

/** Ends every process the run's uids still own (detached grandchildren included); returns how many. */
export async function endSandboxProcesses(sandbox: Sandbox, boundMs = 3_000): Promise<number> {
  let ended = 0;
  const deadline = Date.now() + boundMs;
  // A process may fork while we kill: repeat until none is left, within a bound.
  for (;;) {
    const pids = processesOfUids(sandbox.uidBase, UIDS_PER_RUN);
    if (pids.length === 0 || Date.now() > deadline) return ended;
    // Stop them all first so none can start another in between, then kill.
    signalAll(pids, "SIGSTOP");
    ended += signalAll(pids, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
