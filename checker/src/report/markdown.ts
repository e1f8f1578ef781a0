import type { GradeResults } from "../grade/results";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ").slice(0, 160);

const ICON: Record<string, string> = { pass: "✅", fail: "❌", "not-run": "⏸️", tampered: "⛔" };

/** A Markdown summary fit for $GITHUB_STEP_SUMMARY: the score, then a table per week. */
export function renderMarkdown(results: GradeResults): string {
  const percent = results.maxScore > 0 ? Math.round((100 * results.score) / results.maxScore) : 0;
  const lines = [`# Grade: ${results.score} / ${results.maxScore} (${percent} %) — ${results.status}`, ""];
  if (results.message)
    lines.push(
      `> **${results.status === "error" ? "Grading could not run completely" : "Note"}:** ${cell(results.message)}`,
      "",
    );
  if (results.tampered.length > 0) {
    lines.push("**Modified protected files:**", "");
    for (const t of results.tampered) {
      const who = t.kata?.endsWith("/*")
        ? `every kata of ${t.kata.slice(0, -2)} scores 0`
        : t.kata
          ? `kata ${t.kata} scores 0`
          : "";
      lines.push(`- tests ${t.change}: \`${t.path}\`${who ? ` (${who})` : ""}`);
    }
    lines.push("");
  }
  for (const week of results.weeks) {
    lines.push(`## Week ${week.number}: ${cell(week.title)} — ${week.score} / ${week.maxScore}`, "");
    lines.push("| kata | status | tests | points | first problem |", "|---|---|---|---|---|");
    for (const kata of week.katas) {
      const first = results.tests.find((t) => t.week === week.id && t.kata === kata.id && t.status !== "pass");
      const problem = kata.message ?? (first ? `${first.name}: ${first.message ?? ""}` : "");
      lines.push(
        `| \`${kata.id}\` | ${ICON[kata.status] ?? ""} ${kata.status} | ${kata.passed}/${kata.total} | ${kata.score}/${kata.points} | ${cell(problem)} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}
