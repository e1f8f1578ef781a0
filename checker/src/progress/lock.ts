import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";

const STALE_MS = 10_000;
const WAIT_MS = 5_000;

function holderIsGone(lockFile: string): boolean {
  try {
    const pid = Number(readFileSync(lockFile, "utf8"));
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === "ESRCH";
      }
    }
    return Date.now() - statSync(lockFile).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

/**
 * Runs `work` while holding an exclusive lock file next to the progress file, so that two
 * checker runs finishing at once read-modify-write one after the other (no lost update).
 * A lock left by a killed process (its pid is gone, or it is old) is taken over.
 */
export async function withFileLock<T>(lockFile: string, work: () => T): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lockFile, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (holderIsGone(lockFile)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        // Progress is a convenience; never let a stuck lock block the learner's run.
        rmSync(lockFile, { force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 15 + Math.random() * 20));
    }
  }
  try {
    return work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
