// The files `course new` and `course new-week` write: the course's conventions in one place.
// Everything the author must still write says TODO(author), and fails verify until written.

export interface ScaffoldFile {
  rel: string;
  content: string;
  side: "exercise" | "solution";
}

function camel(id: string): string {
  return id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function skeleton(id: string, weekNumber: number): string {
  const name = camel(id);
  return `// Kata: ${id}
//
// TODO(author): the scenario, in plain prose: what the learner builds, and why it matters.
//
// Tests: tests/${id}.test.ts (npm run check week${weekNumber} ${id}).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

/** TODO(author): what it does, in one line. */
export function ${name}(input: string): string {
  // TODO: replace this throw with your implementation.
  throw new NotImplementedError("${id}");
}
`;
}

function solution(id: string): string {
  const name = camel(id);
  return `import { NotImplementedError } from "#kata";

/** TODO(author): what it does, in one line. */
export function ${name}(input: string): string {
  // TODO(author): the reference, production quality: the code we would ship.
  throw new NotImplementedError("${id}");
}
`;
}

function test(id: string): string {
  const name = camel(id);
  return `import { describe, expect, it } from "vitest";
import { ${name} } from "../src/${id}";

// One describe per task of the README section; whole behavioural sentences; messages that teach.
describe("${id}: TODO(author) the first task", () => {
  it("TODO(author): a whole behavioural sentence", () => {
    expect(${name}("input"), "TODO(author): why this matters").toBe("the expected output");
  });
});
`;
}

/** Everything a new kata needs, ready to write. */
export function kataFiles(
  id: string,
  weekNumber: number,
): { files: ScaffoldFile[]; manifestEntry: Record<string, unknown>; readmeSection: string } {
  return {
    files: [
      { rel: `src/${id}.ts`, content: skeleton(id, weekNumber), side: "exercise" },
      { rel: `tests/${id}.test.ts`, content: test(id), side: "exercise" },
      { rel: `src/${id}.ts`, content: solution(id), side: "solution" },
    ],
    manifestEntry: {
      id,
      title: "TODO(author): a title",
      files: [`src/${id}.ts`],
      tests: [`tests/${id}.test.ts`],
      services: [],
      hints: [
        "TODO(author): a nudge",
        "TODO(author): a stronger nudge",
        "TODO(author): a near-answer, ending with a link to the standard or docs",
      ],
    },
    readmeSection: `### ${id}: TODO(author) title

TODO(author): the goal, in a paragraph.

- Files: \`src/${id}.ts\`
- Run: \`npm run check week${weekNumber} ${id}\`
- Services: none
`,
  };
}

/** A new week's README (the template's headings, in order) and an empty manifest. */
export function weekFiles(topic: string): { rel: string; content: string }[] {
  const title = topic.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase());
  const headings = [
    "Why it matters",
    "Core ideas",
    "Trade-offs",
    "In industry",
    "Pitfalls",
    "Katas",
    "Further reading",
  ];
  const readme = [`# ${title}`, "", ...headings.flatMap((h) => [`## ${h}`, "", "TODO(author)", ""])].join("\n");
  const manifest = {
    title,
    summary: "TODO(author): one line that says what the learner will be able to do.",
    katas: [],
  };
  return [
    { rel: "README.md", content: readme },
    { rel: "week.json", content: `${JSON.stringify(manifest, null, 2)}\n` },
  ];
}
