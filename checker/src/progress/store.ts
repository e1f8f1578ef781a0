import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { emptyKata, emptyProgress, migrate, PROGRESS_VERSION, type KataProgress, type Progress } from "./format";
import { withFileLock } from "./lock";

export const PROGRESS_FILE = ".progress.json";

export interface LoadedProgress {
  progress: Progress;
  /** One line to show the learner when the file had to be backed up or migrated. */
  notice?: string;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

/** Reads the progress file; a corrupt one is moved aside (never deleted) and progress starts fresh. */
export function readProgress(root: string): LoadedProgress {
  const file = path.join(root, PROGRESS_FILE);
  if (!existsSync(file)) return { progress: emptyProgress() };
  const text = readFileSync(file, "utf8");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const migrated = data === undefined ? undefined : migrate(data);
  if (migrated) {
    const older = (data as { version?: unknown }).version !== PROGRESS_VERSION;
    return {
      progress: migrated,
      ...(older ? { notice: `progress: migrated ${PROGRESS_FILE} from an older format` } : {}),
    };
  }
  const backup = `${file}.corrupt-${stamp()}`;
  renameSync(file, backup);
  return {
    progress: emptyProgress(),
    notice: `progress: ${PROGRESS_FILE} was unreadable; kept it as ${path.basename(backup)} and started afresh (your next runs rebuild it)`,
  };
}

/** Writes atomically: a temporary file renamed over the old one, so a kill mid-write loses nothing. */
export function writeProgress(root: string, progress: Progress): void {
  const file = path.join(root, PROGRESS_FILE);
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify(progress, null, 2) + "\n");
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Applies a change to the progress file under a lock, on the freshest copy, so two runs at
 * once both keep their results. Returns the saved progress and any notice from reading it.
 */
export async function updateProgress(root: string, change: (progress: Progress) => void): Promise<LoadedProgress> {
  return withFileLock(path.join(root, `${PROGRESS_FILE}.lock`), () => {
    const loaded = readProgress(root);
    change(loaded.progress);
    writeProgress(root, loaded.progress);
    return loaded;
  });
}

export function kataProgress(progress: Progress, key: string): KataProgress {
  return (progress.katas[key] ??= emptyKata());
}
