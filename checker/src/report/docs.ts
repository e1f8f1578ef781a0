import { COMMANDS } from "../cli/commands";
import { renderCommandTable } from "../cli/help";
import type { Course } from "../course/model";
import { SETTINGS, type SettingSpec } from "../../vitest/settings";

// The parts of README.md and CONTRIBUTING.md that restate a fact the code defines (the weeks
// and their titles, the commands, the settings) are generated between markers, so they cannot
// drift: `npm run course -- docs` rewrites them, and a test fails while they are stale.

const START = (name: string) => `<!-- generated: ${name} (npm run course -- docs) -->`;
const END = "<!-- /generated -->";

function weeksTable(course: Course): string {
  const rows = course.weeks.map(
    (w) => `| ${w.number} | [${w.title}](exercises/${w.id}/README.md) | ${w.katas.map((k) => k.id).join(", ")} |`,
  );
  return ["| week | topic | katas |", "|---|---|---|", ...rows].join("\n");
}

function settingsTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, spec]: [string, SettingSpec]) => {
    const who = spec.internal ? "set by the checker" : spec.default !== undefined ? `default \`${spec.default}\`` : "";
    return `| \`${name}\` | ${spec.about} | ${who} |`;
  });
  return ["| variable | what it does | |", "|---|---|---|", ...rows].join("\n");
}

/** Every generated region, by name. */
export function generatedRegions(course: Course): Record<string, string> {
  return {
    weeks: weeksTable(course),
    "commands-learner": renderCommandTable(COMMANDS, "learner"),
    "commands-teacher": renderCommandTable(COMMANDS, "teacher"),
    "commands-maintainer": renderCommandTable(COMMANDS, "maintainer"),
    settings: settingsTable(),
  };
}

/** The text with every marked region it holds rewritten; unmarked text is left alone. */
export function applyRegions(text: string, regions: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [name, body] of Object.entries(regions)) {
    const start = out.indexOf(START(name));
    if (start < 0) continue;
    const end = out.indexOf(END, start);
    if (end < 0) continue;
    out = `${out.slice(0, start)}${START(name)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}

/** Markers to paste where a region belongs. */
export function regionMarkers(name: string): string {
  return `${START(name)}\n${END}`;
}
