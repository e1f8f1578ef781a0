import { spawn } from "node:child_process";
import path from "node:path";
import type { Kata } from "../course/model";

export interface TypeError {
  /** Path relative to the root. */
  file: string;
  line: number;
  message: string;
}

/**
 * Type-checks the course in a child process: every file's syntax and type errors. With
 * `files` (absolute paths) only those files and what they import are checked, which is what
 * a learner's `check` of one week needs and costs far less than the whole course.
 */
export function typecheck(root: string, files?: readonly string[]): Promise<TypeError[]> {
  const script = path.join(root, "checker", "bin", "typecheck.mjs");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, root, ...(files ?? [])], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.on("close", (code) => {
      const errors: TypeError[] = [];
      for (const line of out.split("\n")) {
        if (!line.trim()) continue;
        try {
          errors.push(JSON.parse(line) as TypeError);
        } catch {
          // Not a diagnostic line.
        }
      }
      if (code !== 0) errors.push({ file: "checker/bin/typecheck.mjs", line: 0, message: (err || "the type-checker crashed").trim().slice(0, 500) });
      resolve(errors);
    });
  });
}

/** Type errors that belong to a kata: in one of its files, or in one of its tests (a changed signature). */
export function kataTypeErrors(kata: Kata, errors: readonly TypeError[]): TypeError[] {
  const own = [...kata.files, ...kata.tests].map((f) => `exercises/${kata.weekId}/${f}`);
  return errors.filter((e) => own.includes(e.file));
}
