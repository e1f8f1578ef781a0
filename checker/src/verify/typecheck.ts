import { spawnSync } from "node:child_process";
import path from "node:path";

export interface TypeError {
  /** Path relative to the root. */
  file: string;
  line: number;
  message: string;
}

/** Type-checks the whole course (skeletons, solutions, tests, checker); every file's errors, syntax and types. */
export function typecheck(root: string): TypeError[] {
  const script = path.join(root, "checker", "bin", "typecheck.mjs");
  const result = spawnSync(process.execPath, [script, root], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const errors: TypeError[] = [];
  for (const line of (result.stdout ?? "").split("\n")) {
    if (!line.trim()) continue;
    try {
      errors.push(JSON.parse(line) as TypeError);
    } catch {
      // Not a diagnostic line.
    }
  }
  if (result.status !== 0) {
    errors.push({ file: "checker/bin/typecheck.mjs", line: 0, message: (result.stderr || "the type-checker crashed").trim().slice(0, 500) });
  }
  return errors;
}
