import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { assertReadableByOthers, sandboxAvailable } from "../../src/runner/sandbox";
import { repoRoot } from "./temp-course";

declare module "vitest" {
  export interface ProvidedContext {
    /** The node_modules temporary courses link to. */
    nodeModules: string;
  }
}

/**
 * Grading as root runs the forks as users of their own, who must reach the node_modules a
 * temporary course links to. In a clone inside a folder only root may enter (`mktemp -d` makes
 * one), the tests use a hard-linked copy in a folder everyone may enter. It is made once, before
 * any test runs: making a link changes every file's inode, which a grade running at that moment
 * would see as its runtime being tampered with.
 */
export default function setup(project: TestProject): () => void {
  const own = path.join(repoRoot, "node_modules");
  try {
    if (sandboxAvailable()) assertReadableByOthers(repoRoot, ["node_modules/vitest/package.json"]);
    project.provide("nodeModules", own);
    return () => {};
  } catch {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kata-node-modules-"));
    chmodSync(dir, 0o755);
    execFileSync("cp", ["-al", own, path.join(dir, "node_modules")]);
    rmSync(path.join(dir, "node_modules", ".vite"), { recursive: true, force: true });
    project.provide("nodeModules", path.join(dir, "node_modules"));
    return () => rmSync(dir, { recursive: true, force: true });
  }
}
