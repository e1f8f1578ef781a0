import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { applyRegions, generatedRegions } from "../report/docs";
import type { CommandContext } from "./context";

export const GENERATED_DOCS = ["README.md", "CONTRIBUTING.md"];

/** `npm run course -- docs`: rewrites the generated parts of the README and CONTRIBUTING. */
export async function docsCommand(ctx: CommandContext): Promise<number> {
  const regions = generatedRegions(ctx.course);
  for (const name of GENERATED_DOCS) {
    const file = path.join(ctx.course.root, name);
    const before = readFileSync(file, "utf8");
    const after = applyRegions(before, regions);
    if (after !== before) writeFileSync(file, after);
    ctx.out(`${name}: ${after === before ? "up to date" : "rewritten"}`);
  }
  return 0;
}
