// The page generator without a browser: kata cards from week.json, README links rewritten
// to routes or to the repository, GitHub's anchors, and a new week appearing by itself.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { addKataCards } from "../lib/kata-cards.mjs";
import { resolveRepoLink } from "../lib/links.mjs";
import { generateSite } from "../lib/pages.mjs";
import { normalizeBase, webUrlOfRemote } from "../lib/settings.mjs";
import { githubSlug, headingText } from "../lib/slug.mjs";

const tmp = mkdtempSync(path.join(os.tmpdir(), "site-generate-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function write(root, file, text) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

const manifest = (katas) => JSON.stringify({ title: "Rate Limiting", summary: "Limit rates.", katas });
const kata = (id, extra = {}) => ({
  id,
  title: `The ${id}`,
  files: [`src/${id}.ts`],
  tests: [`tests/${id}.test.ts`],
  services: [],
  hints: ["a", "b"],
  buildsOn: [],
  points: 1,
  ...extra,
});

function fixtureRepo(name) {
  const root = path.join(tmp, name);
  write(root, "README.md", "# Katas\n\nA course.\n\n## Quick start\n\nRun it.\n");
  write(
    root,
    "exercises/week05-rate-limiting/week.json",
    manifest([kata("token-bucket"), kata("redis-gcra", { services: ["redis"], buildsOn: ["token-bucket"] })]),
  );
  write(root, "exercises/week05-rate-limiting/src/token-bucket.ts", "export {};\n");
  write(
    root,
    "exercises/week05-rate-limiting/README.md",
    [
      "# Week 5 · Rate Limiting",
      "",
      "See [caching](../week03-caching/README.md#stampedes) and [the bucket](src/token-bucket.ts).",
      "",
      "## Katas",
      "",
      "### token-bucket: The bucket",
      "",
      "- Files: `src/token-bucket.ts`",
      "- Run: `npm run check week5 token-bucket`",
      "- Services: none",
      "",
      "### redis-gcra: GCRA",
      "",
      "- Run: `npm run check week5 redis-gcra`",
      "- Services: Redis (one key per client)",
      "",
      "Text after the list.",
      "",
    ].join("\n"),
  );
  write(
    root,
    "exercises/week03-caching/week.json",
    JSON.stringify({ title: "Caching", summary: "Cache.", katas: [kata("cache-aside")] }),
  );
  write(
    root,
    "exercises/week03-caching/README.md",
    "# Week 3\n\n## Stampedes\n\n### cache-aside: Aside\n\n- Run: `npm run check week3 cache-aside`\n- Services: none\n",
  );
  return root;
}

describe("kata cards", () => {
  const week = {
    number: 5,
    readmePath: "exercises/week05/README.md",
    katas: [kata("token-bucket"), kata("redis-gcra", { services: ["redis"] })],
  };

  it("replaces the README's Run and Services lines with the command and services of week.json, keeping the note", () => {
    const readme = [
      "### token-bucket: T",
      "",
      "- Files: `src/a.ts`",
      "- Run: `npm run check week5 token-bucket`",
      "- Services: none",
      "",
      "### redis-gcra: G",
      "",
      "- Run: `npm run check week5 redis-gcra`",
      "- Services: Redis (one key",
      "  per client)",
      "",
      "After.",
      "",
    ].join("\n");
    const { markdown, warnings } = addKataCards(readme, week);
    assert.deepEqual(warnings, []);
    assert.doesNotMatch(markdown, /^- Run:/m, "the README's command is replaced, not shown twice");
    assert.match(markdown, /- Files: `src\/a.ts`/, "the Files line stays");
    assert.match(markdown, /```sh\nnpm run check week5 token-bucket\n```/);
    assert.match(markdown, /\*\*Services:\*\* Redis \(one key per client\)/);
    assert.ok(
      markdown.indexOf("npm run check week5 redis-gcra") < markdown.indexOf("After."),
      "the card sits where the list was",
    );
  });

  it("reports a README whose command or services disagree with week.json", () => {
    const readme = [
      "### token-bucket: T",
      "",
      "- Run: `npm run check week5 token-buckets`",
      "- Services: Redis",
      "",
      "### redis-gcra: G",
      "",
      "- Run: `npm run check week5 redis-gcra`",
      "- Services: none",
      "",
    ].join("\n");
    const { warnings } = addKataCards(readme, week);
    assert.equal(warnings.length, 3, warnings.join("\n"));
  });

  it("gives a kata the README does not describe a section of its own", () => {
    const { markdown, warnings, anchors } = addKataCards(
      "# Week 5\n\n### token-bucket: T\n\n- Run: `npm run check week5 token-bucket`\n",
      week,
    );
    assert.match(markdown, /### redis-gcra: The redis-gcra/);
    assert.equal(anchors.get("redis-gcra"), "redis-gcra-the-redis-gcra");
    assert.ok(warnings.some((w) => w.includes("redis-gcra")));
  });

  it("leaves code fences alone", () => {
    const readme =
      "### token-bucket: T\n\n```md\n- Run: `npm run check week5 nothing`\n```\n\n- Run: `npm run check week5 token-bucket`\n";
    const { markdown } = addKataCards(readme, { ...week, katas: [week.katas[0]] });
    assert.match(markdown, /- Run: `npm run check week5 nothing`/);
  });
});

describe("links written for GitHub", () => {
  const root = fixtureRepo("links");
  const options = {
    repoRoot: root,
    repo: { url: "https://github.com/o/r", branch: "main" },
    sourceToPage: new Map([
      ["exercises/week03-caching/README.md", "weeks/week03-caching.md"],
      ["exercises/week03-caching", "weeks/week03-caching.md"],
      ["README.md", "guide.md"],
    ]),
  };
  const from = "exercises/week05-rate-limiting/README.md";

  it("sends a link to another week's README to that week's page, anchor kept", () => {
    assert.deepEqual(resolveRepoLink("../week03-caching/README.md#stampedes", from, options), {
      kind: "page",
      href: "/weeks/week03-caching.md#stampedes",
    });
    assert.deepEqual(resolveRepoLink("exercises/week03-caching/README.md", "README.md", options), {
      kind: "page",
      href: "/weeks/week03-caching.md",
    });
    assert.deepEqual(resolveRepoLink("../week03-caching/", from, options), {
      kind: "page",
      href: "/weeks/week03-caching.md",
    });
  });

  it("sends a link to a source file or folder to the repository", () => {
    assert.equal(
      resolveRepoLink("src/token-bucket.ts", from, options).href,
      "https://github.com/o/r/blob/main/exercises/week05-rate-limiting/src/token-bucket.ts",
    );
    assert.equal(
      resolveRepoLink("./src", from, options).href,
      "https://github.com/o/r/tree/main/exercises/week05-rate-limiting/src",
    );
  });

  it("refuses a link to a file that does not exist, or outside the repository", () => {
    assert.equal(resolveRepoLink("src/missing.ts", from, options).kind, "error");
    assert.equal(resolveRepoLink("../../../etc/passwd", from, options).kind, "error");
  });

  it("keeps external links and anchors", () => {
    for (const href of ["https://www.rfc-editor.org/rfc/rfc9110", "mailto:a@b.c", "#pitfalls", "//cdn.example/x"]) {
      assert.equal(resolveRepoLink(href, from, options).kind, "keep", href);
    }
  });
});

describe("anchors and settings", () => {
  it("makes GitHub's anchors", () => {
    assert.equal(
      githubSlug(headingText("token-bucket: Token bucket with an injected clock")),
      "token-bucket-token-bucket-with-an-injected-clock",
    );
    assert.equal(githubSlug(headingText("Reading `EXPLAIN (ANALYZE, BUFFERS)`")), "reading-explain-analyze-buffers");
    assert.equal(githubSlug(headingText("`pg_stat_statements`: the first stop")), "pg_stat_statements-the-first-stop");
    assert.equal(githubSlug(headingText("Async & Threading")), "async--threading");
  });

  it("reads a git remote and a base path", () => {
    assert.equal(webUrlOfRemote("git@github.com:o/r.git"), "https://github.com/o/r");
    assert.equal(webUrlOfRemote("https://github.com/o/r.git"), "https://github.com/o/r");
    assert.equal(normalizeBase("backend-katas"), "/backend-katas/");
    assert.equal(normalizeBase(""), "/");
  });
});

describe("the generated pages", () => {
  it("has a page per week folder, in week order, on the home page too; a new week needs no change to the site", () => {
    const root = fixtureRepo("pages");
    const srcDir = path.join(root, "out");
    let site = generateSite({ repoRoot: root, srcDir, repo: null });
    assert.deepEqual(
      site.weeks.map((w) => w.number),
      [3, 5],
    );
    write(
      root,
      "exercises/week09-event-driven/week.json",
      JSON.stringify({
        title: "Events",
        summary: "Publish them.",
        katas: [kata("outbox", { services: ["postgres", "rabbitmq"] })],
      }),
    );
    site = generateSite({ repoRoot: root, srcDir, repo: null });
    assert.deepEqual(
      site.weeks.map((w) => w.number),
      [3, 5, 9],
    );
    const home = readFileSync(path.join(srcDir, "index.md"), "utf8");
    assert.match(home, /\[Events\]\(\/weeks\/week09-event-driven\.md\)/);
    assert.match(home, /needs Postgres, RabbitMQ/);
    const page = readFileSync(path.join(srcDir, "weeks/week09-event-driven.md"), "utf8");
    assert.match(page, /npm run check week9 outbox/, "a week without a README still shows its katas");
    assert.ok(site.warnings.some((w) => w.includes("week09-event-driven/README.md: missing")));
  });

  it("stops on a week.json it cannot read, naming the file and the field", () => {
    const root = fixtureRepo("broken");
    write(root, "exercises/week06-queues/week.json", JSON.stringify({ title: "Q", katas: [] }));
    assert.throws(
      () => generateSite({ repoRoot: root, srcDir: path.join(root, "out"), repo: null }),
      /exercises\/week06-queues\/week\.json: summary/,
    );
  });
});
