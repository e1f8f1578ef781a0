import { spawn } from "node:child_process";
import path from "node:path";
import type { Kata } from "../course/model";

export interface TypeError {
  /** Path relative to the root. */
  file: string;
  line: number;
  message: string;
}

export interface TypecheckResult {
  errors: TypeError[];
  /** For each file under exercises/ (relative), the local files it imports. */
  imports: Map<string, string[]>;
}

/**
 * Type-checks the course in a child process: every file's syntax and type errors. With
 * `files` (absolute paths) only those files and what they import are checked, which is what
 * a learner's `check` of one week needs and costs far less than the whole course.
 */
export function typecheck(root: string, files?: readonly string[], signal?: AbortSignal): Promise<TypecheckResult> {
  const script = path.join(root, "checker", "bin", "typecheck.mjs");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, root, ...(files ?? [])], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Aborted (the time limit), it ends with what it found so far.
    signal?.addEventListener("abort", () => child.kill("SIGKILL"), { once: true });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.on("close", (code) => {
      const result: TypecheckResult = { errors: [], imports: new Map() };
      for (const line of out.split("\n")) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as TypeError | { file: string; imports: string[] };
          if ("imports" in entry) result.imports.set(entry.file, entry.imports);
          else result.errors.push(entry);
        } catch {
          // Not a diagnostic line.
        }
      }
      if (code !== 0 && !signal?.aborted)
        result.errors.push({
          file: "checker/bin/typecheck.mjs",
          line: 0,
          message: (err || "the type-checker crashed").trim().slice(0, 500),
        });
      resolve(result);
    });
  });
}

/** A kata's files and tests, and the files of its week's src/ they reach through local imports. */
function reachedFiles(kata: Kata, imports: ReadonlyMap<string, readonly string[]>): Set<string> {
  const src = `exercises/${kata.weekId}/src/`;
  const reached = new Set([...kata.files, ...kata.tests].map((f) => `exercises/${kata.weekId}/${f}`));
  const queue = [...reached];
  while (queue.length > 0) {
    for (const next of imports.get(queue.shift()!) ?? []) {
      if (!next.startsWith(src) || reached.has(next)) continue;
      reached.add(next);
      queue.push(next);
    }
  }
  return reached;
}

/**
 * Type errors that belong to a kata: in one of its files or a helper of its week they
 * import, or in one of its tests (a changed signature).
 */
export function kataTypeErrors(kata: Kata, result: TypecheckResult): TypeError[] {
  const own = reachedFiles(kata, result.imports);
  return result.errors.filter((e) => own.has(e.file));
}
