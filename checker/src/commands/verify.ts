import type { Course, Kata, Week } from "../course/model";
import { resolveKata, resolveWeek, tryResolveWeek } from "../course/select";
import { computeLock, diffLock, readLock } from "../integrity/course-lock";
import { renderTable } from "../report/table";
import { resolveServicesFor, runKatas } from "../runner/run-katas";
import { judgeRuns, type VerifyRow } from "../verify/gate";
import { staticBreaches, type Breach } from "../verify/static-checks";
import { typecheck } from "../verify/typecheck";
import type { CommandContext } from "./context";
import { fileProgress } from "../report/progress";
import { numberSetting } from "../../vitest/settings";

/** What verify covers: whole weeks, or some katas of them. */
export interface VerifySelection {
  weeks: Week[];
  katas: Kata[];
  /** Whether the whole course was selected (then broken weeks are breaches too). */
  whole: boolean;
}

/**
 * Reads `week5 token-bucket week6`: each week, optionally followed by katas of it. A word that
 * names a week starts the next group; any other word must be a kata of the current week.
 */
export function selectForVerify(course: Course, words: readonly string[]): VerifySelection {
  if (words.length === 0) return { weeks: [...course.weeks], katas: course.weeks.flatMap((w) => w.katas), whole: true };
  const groups: { week: Week; katas: Kata[] }[] = [];
  for (const word of words) {
    const week = groups.length === 0 ? resolveWeek(course, word) : tryResolveWeek(course, word);
    if (week) groups.push({ week, katas: [] });
    else groups.at(-1)!.katas.push(resolveKata(groups.at(-1)!.week, word));
  }
  return {
    weeks: groups.map((g) => g.week),
    katas: groups.flatMap((g) => (g.katas.length > 0 ? g.katas : [...g.week.katas])),
    whole: false,
  };
}

/** Whether the committed lock still matches the course on disk (for the selected weeks and the shared machinery). */
export function lockBreaches(ctx: CommandContext, weeks?: readonly Week[]): Breach[] {
  const recorded = readLock(ctx.course.root);
  if (!recorded) return [{ week: "-", message: "course.lock.json is missing: run `npm run course -- lock`" }];
  const actual = computeLock(ctx.course);
  const protectedDiff = diffLock(recorded.protected, actual.protected);
  const skeletonDiff = diffLock(recorded.skeletons, actual.skeletons);
  const relevant = (rel: string) =>
    !weeks || !rel.startsWith("exercises/") || weeks.some((w) => rel.startsWith(`exercises/${w.id}/`));
  const stale = [
    ...protectedDiff.changed,
    ...protectedDiff.missing,
    ...protectedDiff.added,
    ...skeletonDiff.changed,
    ...skeletonDiff.missing,
    ...skeletonDiff.added,
  ].filter(relevant);
  if (stale.length === 0) return [];
  return [
    {
      week: "-",
      message: `course.lock.json is stale (${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", …" : ""}): run \`npm run course -- lock\``,
    },
  ];
}

/** Type errors in the selected weeks (and outside any week), as breaches. */
async function typeBreaches(ctx: CommandContext, weeks: readonly Week[]): Promise<Breach[]> {
  const breaches: Breach[] = [];
  for (const error of (await typecheck(ctx.course.root)).errors) {
    const week = weeks.find(
      (w) => error.file.startsWith(`exercises/${w.id}/`) || error.file.startsWith(`solutions/${w.id}/`),
    );
    // Another week's errors are that week's business; machinery errors concern every week.
    if (!week && /^(exercises|solutions)\//.test(error.file)) continue;
    breaches.push({ week: week?.id ?? "-", message: `type error ${error.file}:${error.line}: ${error.message}` });
  }
  return breaches;
}

function printVerdict(
  ctx: CommandContext,
  rows: readonly VerifyRow[],
  breaches: readonly Breach[],
  timing: string,
): void {
  ctx.out(
    renderTable(
      ["week", "kata", "tests", "fail on skeleton", "pass on solution", "kept", "ok"],
      rows.map((r) => [r.week, r.kata, r.tests, r.failingOnSkeleton, r.passingOnSolution, r.kept, r.ok ? "✔" : "✘"]),
    ),
  );
  ctx.out(ctx.style.dim(timing));
  if (breaches.length > 0) {
    ctx.out("");
    ctx.out(ctx.style.bad(`${breaches.length} breach${breaches.length === 1 ? "" : "es"} of the gate:`));
    for (const b of breaches) ctx.out(`  ${b.week}${b.kata ? ` ${b.kata}` : ""}: ${b.message}`);
  }
  // The closing line CI reads: katas that pass the gate, and what fails it (katas, plus
  // course-wide breaches such as a stale lock or a type error outside any week).
  const okKatas = rows.filter((r) => r.ok).length;
  const courseWide = breaches.filter((b) => !b.kata).length;
  ctx.out(`verify: ${okKatas} passed, ${rows.length - okKatas + courseWide} failed`);
}

/** `npm run verify [week [kata...]]...`: the course's own gate, as a table; non-zero on any breach. */
export async function verifyCommand(ctx: CommandContext, words: readonly string[]): Promise<number> {
  const selection = selectForVerify(ctx.course, words);
  const breaches: Breach[] = selection.weeks
    .flatMap(staticBreaches)
    .filter((b) => !b.kata || selection.katas.some((k) => k.weekId === b.week && k.id === b.kata));
  if (selection.whole)
    for (const broken of ctx.course.broken) breaches.push({ week: broken.folder, message: broken.message });
  breaches.push(...lockBreaches(ctx, selection.whole ? undefined : selection.weeks));

  const services = await resolveServicesFor(selection.katas, (line) => ctx.err(ctx.style.dim(line)));
  try {
    const files = selection.katas.reduce((n, k) => n + k.tests.length, 0);
    // Verify runs the course's own code, whose slow tests mostly wait: more files at once.
    const maxWorkers = numberSetting("KATA_VERIFY_WORKERS");
    ctx.err(ctx.style.dim(`verify: running ${selection.katas.length} katas against the skeletons…`));
    const skeleton = await runKatas(ctx.course, selection.katas, {
      target: "exercises",
      services,
      maxWorkers,
      onFileDone: fileProgress(ctx, "verify: skeletons", files),
    });
    // The type check is a child process of its own. It runs beside the solution run, whose
    // slow tests mostly wait; beside the skeleton run, which keeps both cores busy, it gained nothing.
    ctx.err(ctx.style.dim("verify: type-checking the course…"));
    const typing = typeBreaches(ctx, selection.weeks);
    typing.catch(() => {});
    ctx.err(ctx.style.dim(`verify: running them against the solutions…`));
    const solution = await runKatas(ctx.course, selection.katas, {
      target: "solution",
      services,
      maxWorkers,
      onFileDone: fileProgress(ctx, "verify: solutions", files),
    });
    breaches.push(...(await typing));
    const judged = judgeRuns(selection.katas, skeleton, solution);
    breaches.push(...judged.breaches);
    printVerdict(
      ctx,
      judged.rows,
      breaches,
      `skeleton run ${(skeleton.durationMs / 1000).toFixed(1)} s · solution run ${(solution.durationMs / 1000).toFixed(1)} s`,
    );
    return breaches.length === 0 ? 0 : 1;
  } finally {
    await services.stopAll();
  }
}
