import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

// What the guards write to disk during a run, and how the checker reads it back. Records
// outlive the process that wrote them (a fork killed by its watchdog, or by the pool), so
// the judge can still name the cause. The watchdog's worker thread (watchdog-worker.mjs,
// plain JavaScript) writes the same shape.

export type GuardKind =
  /** the watchdog: the event loop did not turn for too long */
  | "blocked-event-loop"
  /** the exit guard: process.exit was called */
  | "process-exit"
  /** the pool: the file ran past its time bound */
  | "file-bound"
  /** the pool: the fork's resident memory passed its cap */
  | "memory-cap"
  /** the pool: the fork ended on its own, by a signal or an exit code */
  | "fork-exit"
  /** the pool: the fork sent the runner a message it may not send */
  | "forged-report"
  /** the integrity plugin: learner code imported the runner, the tests or the solutions */
  | "refused-import"
  /** the integrity plugin: a protected file differed from the lock as it loaded */
  | "tampered-file";

export interface GuardRecord {
  kind: GuardKind;
  /** Absolute path of the test file, when known (refused-import: the learner's file; tampered-file: the file, relative). */
  file: string | null;
  /** The full test name ("describe > it"), or null for the file as a whole. */
  test: string | null;
  /** What to tell the learner. */
  message?: string;
  /** process-exit: the code passed. */
  code?: unknown;
  /** blocked-event-loop: for how long. */
  blockedMs?: number;
}

/** Appends one record to the run's report folder (best effort: a missing folder means no run is listening). */
export function writeGuardRecord(dir: string | undefined, record: GuardRecord): void {
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    appendFileSync(path.join(dir, `guard-${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
  } catch {
    // Reporting is best effort; the guards also fail the test in the fork.
  }
}

/** A record file past this size is learner output, not records: read its start only. */
const MAX_RECORD_FILE_BYTES = 1 << 20;

function recordFiles(dir: string, depth = 0): string[] {
  if (!existsSync(dir) || depth > 3) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...recordFiles(full, depth + 1));
    else if (entry.name.endsWith(".jsonl")) found.push(full);
  }
  return found;
}

/** Reads every record the guards and the pool left under a run's report folder. */
export function readGuardRecords(dir: string): GuardRecord[] {
  const records: GuardRecord[] = [];
  for (const file of recordFiles(dir)) {
    let text: string;
    try {
      text =
        statSync(file).size > MAX_RECORD_FILE_BYTES
          ? readFileSync(file).subarray(0, MAX_RECORD_FILE_BYTES).toString("utf8")
          : readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const parsed = JSON.parse(line) as GuardRecord;
        if (typeof parsed?.kind === "string") records.push(parsed);
      } catch {
        // A line cut short by the kill that followed it; the fork's failure is reported anyway.
      }
    }
  }
  return records;
}

/** The one message for each kind of record. */
export function describeGuardRecord(record: GuardRecord): string {
  switch (record.kind) {
    case "blocked-event-loop":
      return record.message ?? `your code blocked the event loop for ${record.blockedMs} ms`;
    case "process-exit":
      return `your code called process.exit(${String(record.code ?? 0)})${record.test ? ` during "${record.test}"` : " after the tests had finished"}; a library or service must never end the process it runs in, throw an error instead`;
    default:
      return record.message ?? record.kind;
  }
}
