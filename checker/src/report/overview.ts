import type { Course } from "../course/model";
import { weekLabel } from "../course/select";
import type { Progress } from "../progress/format";
import type { Style } from "./style";

/** `npm run check` with no week: every week's katas passed / total, and the next kata to do. */
export function renderOverview(course: Course, progress: Progress, style: Style): string {
  const lines = [style.bold("Backend engineering katas: your progress"), ""];
  // Columns as wide as their longest entry, so a long title never pushes the counts out of line.
  const labelWidth = Math.max(0, ...course.weeks.map((w) => weekLabel(w).length));
  const titleWidth = Math.max(0, ...course.weeks.map((w) => w.title.length));
  let next: string | undefined;
  for (const week of course.weeks) {
    const passed = week.katas.filter((k) => progress.katas[k.key]?.status === "passed").length;
    const total = week.katas.length;
    const mark = total > 0 && passed === total ? style.ok("✔") : passed > 0 ? style.warn("◐") : style.dim("○");
    const count = total === 0 ? "no katas yet" : `${passed}/${total} katas`;
    lines.push(`  ${mark} ${weekLabel(week).padEnd(labelWidth)}  ${week.title.padEnd(titleWidth)}  ${count}`);
    const todo = week.katas.find((k) => progress.katas[k.key]?.status !== "passed");
    if (!next && todo) next = `npm run check ${weekLabel(week)} ${todo.id}   (${todo.title})`;
  }
  if (course.weeks.length === 0) lines.push("  no weeks yet");
  for (const broken of course.broken) lines.push(`  ${style.bad("✘")} ${broken.folder}: ${broken.message}`);
  lines.push("");
  lines.push(`next: ${next ?? "nothing left: every kata passes"}`);
  return lines.join("\n");
}
