import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderJunit } from "./junit";
import { renderMarkdown } from "./markdown";
import type { GradeResults } from "../grade/results";

function writeAtomically(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** Writes results.json, junit.xml and summary.md into `dir`. */
export function writeGradeOutputs(dir: string, results: GradeResults): void {
  mkdirSync(dir, { recursive: true });
  writeAtomically(path.join(dir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeAtomically(path.join(dir, "junit.xml"), renderJunit(results));
  writeAtomically(path.join(dir, "summary.md"), renderMarkdown(results));
}
