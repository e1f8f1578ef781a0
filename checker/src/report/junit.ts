import type { GradeResults } from "../grade/results";

// XML 1.0 cannot carry most control characters at all, even escaped; hostile output is full of them.
const INVALID_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD]/g;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** JUnit XML: a testsuite per kata, a testcase per test, failures with their messages. */
export function renderJunit(results: GradeResults): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const totalFailures = results.tests.filter((t) => t.status !== "pass").length;
  lines.push(
    `<testsuites name="backend-katas" tests="${results.tests.length}" failures="${totalFailures}" time="${seconds(results.durationMs)}">`,
  );
  for (const week of results.weeks) {
    for (const kata of week.katas) {
      const tests = results.tests.filter((t) => t.week === week.id && t.kata === kata.id);
      const failures = tests.filter((t) => t.status === "fail").length;
      const errors =
        tests.filter((t) => t.status === "error").length + (tests.length === 0 && kata.status !== "pass" ? 1 : 0);
      const time = tests.reduce((sum, t) => sum + t.durationMs, 0);
      const name = escapeXml(`${week.id}/${kata.id}`);
      lines.push(
        `  <testsuite name="${name}" tests="${Math.max(tests.length, 1)}" failures="${failures}" errors="${errors}" time="${seconds(time)}">`,
      );
      if (tests.length === 0) {
        // A kata that could not run still shows up, as an error, so CI never reads it as green.
        lines.push(`    <testcase classname="${name}" name="${escapeXml(kata.title)}" time="0.000">`);
        lines.push(`      <error message="${escapeXml(kata.message ?? kata.status)}" type="${kata.status}"/>`);
        lines.push("    </testcase>");
      }
      for (const test of tests) {
        lines.push(
          `    <testcase classname="${name}" name="${escapeXml(test.name)}" time="${seconds(test.durationMs)}">`,
        );
        if (test.status !== "pass") {
          const tag = test.status === "error" ? "error" : "failure";
          const message = escapeXml(test.message ?? "failed");
          lines.push(`      <${tag} message="${message.split("\n")[0]!.slice(0, 200)}">${message}</${tag}>`);
        }
        lines.push("    </testcase>");
      }
      lines.push("  </testsuite>");
    }
  }
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
}
