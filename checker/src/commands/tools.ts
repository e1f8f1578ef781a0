import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { resolveKata, resolveWeek, weekLabel } from "../course/select";
import { resolveServicesFor } from "../runner/run-katas";
import { serviceEnv } from "../services";
import type { CommandContext } from "./context";

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * Stryker's score from its JSON report: detected mutants (killed or timed out) over all
 * that could be judged (detected, survived, not covered).
 */
export function mutationScore(reportFile: string): { percent: number; summary: string } | undefined {
  if (!existsSync(reportFile)) return undefined;
  const report = JSON.parse(readFileSync(reportFile, "utf8")) as {
    files: Record<string, { mutants: { status: string }[] }>;
  };
  const counts = new Map<string, number>();
  for (const file of Object.values(report.files))
    for (const m of file.mutants) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
  const n = (status: string) => counts.get(status) ?? 0;
  const detected = n("Killed") + n("Timeout");
  const judged = detected + n("Survived") + n("NoCoverage");
  if (judged === 0) return undefined;
  return {
    percent: (100 * detected) / judged,
    summary: `${n("Killed")} killed, ${n("Timeout")} timed out, ${n("Survived")} survived, ${n("NoCoverage")} not covered`,
  };
}

/** `npm run mutate week1 [kata]`: Stryker over the week's (or the kata's) solution files, with the matching tests. */
export async function mutateCommand(
  ctx: CommandContext,
  options: { week: string; kata?: string | undefined },
): Promise<number> {
  const week = resolveWeek(ctx.course, options.week);
  const kata = options.kata === undefined ? undefined : resolveKata(week, options.kata);
  const katas = kata ? [kata] : week.katas;
  const services = await resolveServicesFor(katas, (line) => ctx.err(ctx.style.dim(line)));
  try {
    const require = createRequire(path.join(ctx.course.root, "package.json"));
    const stryker = path.join(path.dirname(require.resolve("@stryker-mutator/core/package.json")), "bin", "stryker.js");
    const what = kata ? `${weekLabel(week)} ${kata.id}` : weekLabel(week);
    ctx.err(ctx.style.dim(`mutate: Stryker on the ${what} solution with its tests (this takes minutes)…`));
    const code = await run(process.execPath, [stryker, "run", "stryker.config.mjs"], ctx.course.root, {
      ...process.env,
      ...serviceEnv(services),
      KATA_TARGET: "solution",
      KATA_WEEK_FILTER: week.id,
      KATA_MUTATE: "1",
      ...(kata
        ? {
            KATA_MUTATE_FILES: kata.files.map((f) => `solutions/${week.id}/${f}`).join(","),
            KATA_TEST_FILES: kata.tests.map((t) => `exercises/${week.id}/${t}`).join(","),
            KATA_REPORT_NAME: `${week.id}-${kata.id}`,
          }
        : {}),
    });
    const score = mutationScore(
      path.join(ctx.course.root, "reports", "mutation", `${kata ? `${week.id}-${kata.id}` : week.id}.json`),
    );
    if (code === 0 && score) ctx.out(`mutate: ${what} mutation score ${score.percent.toFixed(1)} % (${score.summary})`);
    return code;
  } finally {
    await services.stopAll();
  }
}
