import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** What the in-fork guards wrote to disk: they outlive the fork they were written from. */
export interface GuardRecord {
  kind: "blocked-event-loop" | "process-exit";
  file: string | null;
  test: string | null;
  message?: string;
  code?: unknown;
  blockedMs?: number;
}

/** Reads every record the watchdog and the exit guard left in a run's report folder. */
export function readGuardRecords(dir: string): GuardRecord[] {
  if (!existsSync(dir)) return [];
  const records: GuardRecord[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".jsonl")) continue;
    for (const line of readFileSync(path.join(dir, name), "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as GuardRecord);
      } catch {
        // A line cut short by the kill that followed it; the fork's failure is reported anyway.
      }
    }
  }
  return records;
}

export function describeGuardRecord(record: GuardRecord): string {
  if (record.kind === "blocked-event-loop") return record.message ?? `your code blocked the event loop for ${record.blockedMs} ms`;
  return `your code called process.exit(${String(record.code ?? 0)})${record.test ? ` during "${record.test}"` : " after the tests had finished"}; a library or service must never end the process it runs in`;
}
