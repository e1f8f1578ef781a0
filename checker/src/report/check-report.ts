import type { Week } from "../course/model";
import type { KataVerdict } from "../runner/verdicts";
import type { Style } from "./style";

export interface CheckReportInput {
  week: Week;
  verdicts: readonly KataVerdict[];
  notes: readonly string[];
  next: string;
  style: Style;
  /** Every failing test's message, not only the first. */
  all?: boolean;
  /** Katas of the week that pass (in this run or before): a kata building on one that does not is told so. */
  passing: ReadonlySet<string>;
}

/** How many failing test names fit on a screen before "N more". */
const NAMES_PER_SCREEN = 15;

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function indent(text: string, prefix = "    "): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

function kataLine(verdict: KataVerdict, width: number, input: CheckReportInput): string {
  const { style } = input;
  if (verdict.status === "not-run") {
    const needs = verdict.kata.services.join(" and ");
    return `  ${style.warn("–")} ${pad(verdict.kata.id, width)}${style.warn("not run")}: needs ${needs || "a service"}, see below`;
  }
  const passed = verdict.status === "passed";
  const counts = `${verdict.passed}/${verdict.total} tests`;
  const first = passed ? [] : verdict.kata.buildsOn.filter((id) => !input.passing.has(id));
  const before =
    first.length > 0
      ? style.warn(`   (builds on ${first.join(" and ")}: do ${first.length > 1 ? "them" : "it"} first)`)
      : "";
  return `  ${passed ? style.ok("✔") : style.bad("✘")} ${pad(verdict.kata.id, width)}${passed ? style.ok(counts) : style.bad(counts)}${before}`;
}

/** The report of `npm run check weekN`: one line per kata with its failing tests, the first message in full, what to do next. */
export function renderCheckReport(input: CheckReportInput): string {
  const { week, verdicts, style } = input;
  const lines: string[] = [style.bold(`week${week.number} · ${week.title}`), ""];
  const width = Math.max(...verdicts.map((v) => v.kata.id.length)) + 2;
  let namesLeft = input.all ? Infinity : NAMES_PER_SCREEN;
  let hidden = 0;
  for (const verdict of verdicts) {
    lines.push(kataLine(verdict, width, input));
    for (const test of verdict.tests.filter((t) => t.status === "failed")) {
      if (namesLeft-- > 0) lines.push(style.dim(`      ✘ ${test.name}`));
      else hidden++;
    }
  }
  if (hidden > 0)
    lines.push(
      style.dim(
        `      … ${hidden} more failing (npm run check week${week.number} <kata> --all shows them with their messages)`,
      ),
    );

  const reasons = [...new Set(verdicts.filter((v) => v.status === "not-run" && v.reason).map((v) => v.reason!))];
  for (const reason of reasons) lines.push("", style.warn(indent(reason, "  ")));

  const failing = verdicts.flatMap((v) =>
    v.tests.filter((t) => t.status === "failed").map((t) => ({ kata: v.kata.id, test: t })),
  );
  for (const { kata, test } of input.all ? failing : failing.slice(0, 1)) {
    lines.push("", style.bad(`✘ ${kata} › ${test.name}`));
    if (test.message) lines.push(indent(test.message));
    lines.push(style.dim(`    (${test.file})`));
  }
  for (const note of input.notes) lines.push("", style.bad(`! ${note}`));
  lines.push("", `next: ${input.next}`);
  return lines.join("\n");
}
