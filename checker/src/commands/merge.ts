import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { CheckerError } from "../errors";
import { mergeResults } from "../grade/merge";
import { gradeResultsSchema, type GradeResults } from "../grade/results";
import { writeGradeOutputs } from "../report/write";
import { renderMarkdown } from "../report/markdown";
import type { CommandContext } from "./context";
import { EXIT_COULD_NOT_GRADE } from "./grade";

function readResults(input: string): GradeResults {
  const file = existsSync(input) && statSync(input).isDirectory() ? path.join(input, "results.json") : input;
  if (!existsSync(file))
    throw new CheckerError(
      "E_USAGE",
      `no results file at ${file}`,
      "npm run course -- merge-grades grade-week1 grade-week2 --out grade",
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new CheckerError("E_USAGE", `${file} is not valid JSON`);
  }
  const parsed = gradeResultsSchema.safeParse(json);
  if (!parsed.success)
    throw new CheckerError(
      "E_USAGE",
      `${file} is not a grade results file (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message})`,
    );
  return parsed.data;
}

/** `npm run course -- merge-grades <dir|file>... [--out DIR]`: one score from a matrix of grading jobs. */
export async function mergeCommand(
  ctx: CommandContext,
  { inputs, out }: { inputs: readonly string[]; out: string },
): Promise<number> {
  const merged = mergeResults(inputs.map(readResults));
  const outDir = path.resolve(process.cwd(), out);
  writeGradeOutputs(outDir, merged);
  ctx.out(renderMarkdown(merged));
  ctx.out(`results: ${path.relative(process.cwd(), outDir) || "."}/results.json, junit.xml, summary.md`);
  return merged.status === "error" ? EXIT_COULD_NOT_GRADE : 0;
}
