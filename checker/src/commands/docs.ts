import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Course } from "../course/model";
import { weekLabel } from "../course/select";
import { applyRegions, generatedRegions } from "../report/docs";
import type { CommandContext } from "./context";

export const GENERATED_DOCS = ["README.md", "CONTRIBUTING.md"];
export const MATRIX_WORKFLOW = ".github/workflows/grade-matrix.yml";

/** The matrix workflow with its list of weeks set to the course's. */
export function withMatrixWeeks(yaml: string, course: Course): string {
  return yaml.replace(/^(\s+week: )\[.*\]$/m, `$1[${course.weeks.map(weekLabel).join(", ")}]`);
}

function rewrite(ctx: CommandContext, name: string, change: (text: string) => string): void {
  const file = path.join(ctx.course.root, name);
  const before = readFileSync(file, "utf8");
  const after = change(before);
  if (after !== before) writeFileSync(file, after);
  ctx.out(`${name}: ${after === before ? "up to date" : "rewritten"}`);
}

/** `npm run course -- docs`: rewrites what the README, CONTRIBUTING and the grading matrix restate of the course. */
export async function docsCommand(ctx: CommandContext): Promise<number> {
  const regions = generatedRegions(ctx.course);
  for (const name of GENERATED_DOCS) rewrite(ctx, name, (text) => applyRegions(text, regions));
  rewrite(ctx, MATRIX_WORKFLOW, (text) => withMatrixWeeks(text, ctx.course));
  return 0;
}
