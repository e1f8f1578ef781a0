import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

export interface TypeError {
  /** Path relative to the root. */
  file: string;
  line: number;
  message: string;
}

/** Runs the TypeScript compiler over the whole course (skeletons, solutions, tests, checker). */
export function typecheck(root: string): TypeError[] {
  const require = createRequire(path.join(root, "package.json"));
  const tsc = require.resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "--noEmit", "-p", path.join(root, "tsconfig.json"), "--pretty", "false"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const errors: TypeError[] = [];
  for (const line of (result.stdout ?? "").split("\n")) {
    const match = /^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(line.trim());
    if (match) errors.push({ file: match[1]!, line: Number(match[2]), message: match[3]! });
  }
  if (result.status !== 0 && errors.length === 0) {
    errors.push({ file: "tsconfig.json", line: 0, message: (result.stderr || result.stdout || "tsc failed").trim().slice(0, 500) });
  }
  return errors;
}
