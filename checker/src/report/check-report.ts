import type { Week } from "../course/model";
import type { KataVerdict } from "../runner/verdicts";
import type { Style } from "./style";

export interface CheckReportInput {
  week: Week;
  verdicts: readonly KataVerdict[];
  notes: readonly string[];
  next: string;
  style: Style;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function indent(text: string, prefix = "    "): string {
  return text.split("\n").map((line) => prefix + line).join("\n");
}

/** The report of `npm run check weekN`: one line per kata, the first failure, and what to do next. */
export function renderCheckReport(input: CheckReportInput): string {
  const { week, verdicts, style } = input;
  const lines: string[] = [];
  // The services used were already said on stderr as they were found (with any slow start).
  lines.push(style.bold(`week${week.number} · ${week.title}`));
  lines.push("");
  const width = Math.max(...verdicts.map((v) => v.kata.id.length)) + 2;
  for (const verdict of verdicts) {
    if (verdict.status === "not-run") {
      const needs = verdict.kata.services.join(" and ");
      lines.push(`  ${style.warn("–")} ${pad(verdict.kata.id, width)}${style.warn("not run")}: needs ${needs || "a service"}, see below`);
      continue;
    }
    const mark = verdict.status === "passed" ? style.ok("✔") : style.bad("✘");
    const counts = `${verdict.passed}/${verdict.total} tests`;
    lines.push(`  ${mark} ${pad(verdict.kata.id, width)}${verdict.status === "passed" ? style.ok(counts) : style.bad(counts)}`);
  }
  const reasons = [...new Set(verdicts.filter((v) => v.status === "not-run" && v.reason).map((v) => v.reason!))];
  for (const reason of reasons) {
    lines.push("");
    lines.push(style.warn(indent(reason, "  ")));
  }
  const firstFailing = verdicts.find((v) => v.status === "failed");
  const firstTest = firstFailing?.tests.find((t) => t.status === "failed");
  if (firstFailing && firstTest) {
    lines.push("");
    lines.push(style.bad(`✘ ${firstFailing.kata.id} › ${firstTest.name}`));
    if (firstTest.message) lines.push(indent(firstTest.message));
    lines.push(style.dim(`    (${firstTest.file})`));
  }
  for (const note of input.notes) {
    lines.push("");
    lines.push(style.bad(`! ${note}`));
  }
  lines.push("");
  lines.push(`next: ${input.next}`);
  return lines.join("\n");
}
