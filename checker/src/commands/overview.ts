import type { Course } from "../course/model";
import { weekLabel } from "../course/select";
import type { Progress } from "../progress/format";
import type { Style } from "../report/style";

/** `npm run check` with no week: every week's katas passed / total, and the next kata to do. */
export function renderOverview(course: Course, progress: Progress, style: Style): string {
  const lines = [style.bold("Backend engineering katas: your progress"), ""];
  let next: string | undefined;
  for (const week of course.weeks) {
    const passed = week.katas.filter((k) => progress.katas[k.key]?.status === "passed").length;
    const total = week.katas.length;
    const mark = passed === total ? style.ok("✔") : passed > 0 ? style.warn("◐") : style.dim("○");
    const label = `${weekLabel(week)}`.padEnd(7);
    lines.push(`  ${mark} ${label} ${week.title.padEnd(38)} ${passed}/${total} katas`);
    const todo = week.katas.find((k) => progress.katas[k.key]?.status !== "passed");
    if (!next && todo) next = `npm run check ${weekLabel(week)} ${todo.id}   (${todo.title})`;
  }
  if (course.weeks.length === 0) lines.push("  no weeks yet");
  for (const broken of course.broken) lines.push(`  ${style.bad("✘")} ${broken.folder}: ${broken.message}`);
  lines.push("");
  lines.push(`next: ${next ?? "nothing left: every kata passes"}`);
  return lines.join("\n");
}
