import type { Week } from "../course/model";
import { resolveWeek } from "../course/select";
import { computeLock, diffLock, readLock } from "../integrity/course-lock";
import { renderTable } from "../report/table";
import { resolveServicesFor, runKatas } from "../runner/run-katas";
import { judgeRuns } from "../verify/gate";
import { staticBreaches, type Breach } from "../verify/static-checks";
import { typecheck } from "../verify/typecheck";
import type { CommandContext } from "./context";

/** Whether the committed lock still matches the course on disk. */
export function lockBreaches(ctx: CommandContext, weeks?: readonly Week[]): Breach[] {
  const recorded = readLock(ctx.course.root);
  if (!recorded) return [{ week: "-", message: "course.lock.json is missing: run `npm run course -- lock`" }];
  const actual = computeLock(ctx.course);
  const protectedDiff = diffLock(recorded.protected, actual.protected);
  const skeletonDiff = diffLock(recorded.skeletons, actual.skeletons);
  // Verifying some weeks judges the lock for those weeks and the shared machinery only.
  const relevant = (rel: string) => !weeks || !rel.startsWith("exercises/") || weeks.some((w) => rel.startsWith(`exercises/${w.id}/`));
  const stale = [...protectedDiff.changed, ...protectedDiff.missing, ...protectedDiff.added, ...skeletonDiff.changed, ...skeletonDiff.missing, ...skeletonDiff.added].filter(relevant);
  if (stale.length === 0) return [];
  return [{ week: "-", message: `course.lock.json is stale (${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", …" : ""}): run \`npm run course -- lock\`` }];
}

/** `npm run verify [week...]`: the course's own gate, as a table; non-zero on any breach. */
export async function verifyCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const weeks: Week[] = args.length > 0 ? args.map((a) => resolveWeek(ctx.course, a)) : [...ctx.course.weeks];
  const breaches: Breach[] = weeks.flatMap(staticBreaches);
  if (args.length === 0) for (const broken of ctx.course.broken) breaches.push({ week: broken.folder, message: broken.message });
  breaches.push(...lockBreaches(ctx, args.length > 0 ? weeks : undefined));

  ctx.err(ctx.style.dim("verify: type-checking the course…"));
  const selectedDirs = weeks.map((w) => `exercises/${w.id}/`).concat(weeks.map((w) => `solutions/${w.id}/`));
  for (const error of (await typecheck(ctx.course.root)).errors) {
    const week = weeks.find((w) => error.file.includes(`/${w.id}/`) || error.file.startsWith(`exercises/${w.id}/`) || error.file.startsWith(`solutions/${w.id}/`));
    const isOtherWeek = !week && /^(exercises|solutions)\//.test(error.file) && !selectedDirs.some((d) => error.file.startsWith(d));
    if (isOtherWeek) continue;
    breaches.push({ week: week?.id ?? "-", message: `type error ${error.file}:${error.line}: ${error.message}` });
  }

  const katas = weeks.flatMap((w) => w.katas);
  const services = await resolveServicesFor(katas, (line) => ctx.err(ctx.style.dim(line)));
  try {
    ctx.err(ctx.style.dim(`verify: running ${katas.length} katas against the skeletons…`));
    const skeleton = await runKatas(ctx.course, katas, { target: "exercises", services });
    ctx.err(ctx.style.dim(`verify: running them against the solutions…`));
    const solution = await runKatas(ctx.course, katas, { target: "solution", services });
    const judged = judgeRuns(weeks, skeleton, solution);
    breaches.push(...judged.breaches);

    ctx.out(
      renderTable(
        ["week", "kata", "tests", "fail on skeleton", "pass on solution", "kept", "ok"],
        judged.rows.map((r) => [r.week, r.kata, r.tests, r.failingOnSkeleton, r.passingOnSolution, r.kept, r.ok ? "✔" : "✘"]),
      ),
    );
    ctx.out(ctx.style.dim(`skeleton run ${(skeleton.durationMs / 1000).toFixed(1)} s · solution run ${(solution.durationMs / 1000).toFixed(1)} s`));
    if (breaches.length > 0) {
      ctx.out("");
      ctx.out(ctx.style.bad(`${breaches.length} breach${breaches.length === 1 ? "" : "es"} of the gate:`));
      for (const b of breaches) ctx.out(`  ${b.week}${b.kata ? ` ${b.kata}` : ""}: ${b.message}`);
    }
    // The closing line CI reads: katas that pass the gate, and what fails it (katas, plus
    // course-wide breaches such as a stale lock or a type error outside any week).
    const okKatas = judged.rows.filter((r) => r.ok).length;
    const courseWide = breaches.filter((b) => !b.kata).length;
    ctx.out(`verify: ${okKatas} passed, ${judged.rows.length - okKatas + courseWide} failed`);
    return breaches.length === 0 ? 0 : 1;
  } finally {
    await services.stopAll();
  }
}
