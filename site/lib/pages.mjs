// Writes the site's pages from the repository: the home page (every week, from week.json),
// one page per week README (with a "run it" card in each kata section), the course README
// and CONTRIBUTING.md. Everything is generated at build time into the site's source folder
// (site/.generated); nothing under exercises/ is written.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { loadWeeks, SERVICE_LABELS } from "./course.mjs";
import { addKataCards, headingAnchors } from "./kata-cards.mjs";
import { scanLines } from "./markdown-lines.mjs";

/** Repository Markdown files published as pages besides the weeks: [repo path, page, label]. */
const DOCS = [
  ["README.md", "guide.md", "About the course"],
  ["CONTRIBUTING.md", "contributing.md", "Writing a week"],
];

const require = createRequire(import.meta.url);

export const weekPage = (week) => `weeks/${week.folder}.md`;

/** Text for Vue templates: VitePress compiles each page as a Vue component. */
const escapeText = (text) => text.replace(/</g, "&lt;").replace(/\{/g, "&#123;").replace(/\}/g, "&#125;");

const frontmatter = (fields) =>
  [
    "---",
    ...Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
    "---",
    "",
  ].join("\n");

/** The README's title and first paragraph, for the home page's hero. */
function readmeIntro(readme) {
  const scanned = scanLines(readme);
  const h1 = scanned.find((l) => l.level === 1);
  const paragraph = [];
  for (let i = h1 ? h1.index + 1 : 0; i < scanned.length; i++) {
    const { line, level, inFence } = scanned[i];
    if (level !== undefined || inFence) {
      if (paragraph.length) break;
      continue;
    }
    if (line.trim() === "") {
      if (paragraph.length) break;
      continue;
    }
    paragraph.push(line.trim());
  }
  const text = paragraph.join(" ");
  // The hero's tagline is the first sentence; the rest of the paragraph goes below it.
  const end = text.search(/[.!?](\s|$)/);
  const tagline = end >= 0 ? text.slice(0, end + 1) : text;
  return { title: h1?.text.trim() ?? "Backend engineering katas", tagline, rest: text.slice(tagline.length).trim() };
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function servicesOf(week) {
  const all = new Set(week.katas.flatMap((k) => k.services));
  return [...all].map((s) => SERVICE_LABELS[s]);
}

function homePage(weeks, { intro, anchors, hasGuide }) {
  const first = weeks[0];
  const actions = [];
  if (first)
    actions.push({
      theme: "brand",
      text: `Start with week ${first.number}`,
      link: `/${weekPage(first).replace(/\.md$/, "")}`,
    });
  if (hasGuide) actions.push({ theme: "alt", text: "How the course works", link: "/guide" });
  const lines = [
    "---",
    "layout: home",
    `title: ${JSON.stringify(intro.title)}`,
    "hero:",
    `  name: ${JSON.stringify(intro.title)}`,
    `  tagline: ${JSON.stringify(intro.tagline)}`,
    "  actions:",
    ...actions.flatMap((a) => [
      `    - theme: ${a.theme}`,
      `      text: ${JSON.stringify(a.text)}`,
      `      link: ${JSON.stringify(a.link)}`,
    ]),
    "---",
    "",
    '<div class="course-home">',
    "",
    `## ${plural(weeks.length, "week")}, ${plural(
      weeks.reduce((n, w) => n + w.katas.length, 0),
      "kata",
    )}`,
    "",
    ...(intro.rest ? [escapeText(intro.rest), ""] : []),
    "Each week's page is its README: the theory first, then the katas, each with the command that runs it.",
    "",
    '<div class="week-grid">',
    "",
  ];
  for (const week of weeks) {
    const services = servicesOf(week);
    const needs = services.length > 0 ? `needs ${services.join(", ")}` : "no services needed";
    const page = `/${weekPage(week)}`;
    lines.push(
      `<div class="week-card" data-week="${week.number}">`,
      "",
      `<p class="week-number">Week ${week.number}</p>`,
      "",
      `### [${escapeText(week.title)}](${page})`,
      "",
      escapeText(week.summary),
      "",
      `<p class="week-meta">${plural(week.katas.length, "kata")} · ${needs}</p>`,
      "",
      ...week.katas.map((k) => {
        const anchor = anchors.get(week.folder)?.get(k.id);
        return `- [${k.id}](${page}${anchor ? `#${anchor}` : ""}): ${escapeText(k.title)}`;
      }),
      "",
      "</div>",
      "",
    );
  }
  lines.push("</div>", "", "</div>", "");
  return lines.join("\n");
}

/** A page for a week whose folder has no README yet: what week.json says. */
function readmeFromManifest(week) {
  return [
    `# Week ${week.number} · ${week.title}`,
    "",
    week.summary,
    "",
    "## Katas",
    "",
    ...week.katas.flatMap((k) => [`### ${k.id}: ${k.title}`, ""]),
  ].join("\n");
}

/** Writes `files` (page -> text) into srcDir, leaving unchanged files alone and removing stale pages. */
function writePages(srcDir, files) {
  mkdirSync(srcDir, { recursive: true });
  const wanted = new Set(files.keys());
  const walk = (dir, prefix) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
      else if (entry.name.endsWith(".md") && !wanted.has(rel)) rmSync(path.join(dir, entry.name));
    }
  };
  walk(srcDir, "");
  for (const [page, text] of files) {
    const file = path.join(srcDir, page);
    mkdirSync(path.dirname(file), { recursive: true });
    if (existsSync(file) && readFileSync(file, "utf8") === text) continue;
    writeFileSync(file, text);
  }
}

/**
 * Mermaid's own browser build, served from the site (public/ is copied as it is): see
 * .vitepress/theme/mermaid-loader.mjs. Source maps are left out.
 */
function copyMermaid(srcDir) {
  const from = path.join(path.dirname(require.resolve("mermaid/package.json")), "dist");
  const to = path.join(srcDir, "public", "mermaid");
  const version = JSON.parse(readFileSync(path.join(from, "..", "package.json"), "utf8")).version;
  const stamp = path.join(to, ".version");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === version) return;
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  cpSync(path.join(from, "mermaid.esm.min.mjs"), path.join(to, "mermaid.esm.min.mjs"));
  cpSync(path.join(from, "chunks", "mermaid.esm.min"), path.join(to, "chunks", "mermaid.esm.min"), {
    recursive: true,
    filter: (file) => !file.endsWith(".map"),
  });
  writeFileSync(stamp, version);
}

/**
 * Generates every page. Returns what the VitePress configuration needs: the weeks, the
 * pages with the repository file each was made from, each kata's anchor, and the
 * disagreements between READMEs and week.json (warnings, the build goes on).
 */
export function generateSite({ repoRoot, srcDir, repo }) {
  const weeks = loadWeeks(repoRoot);
  const warnings = [];
  const files = new Map();
  const pages = [];
  const anchors = new Map();

  const docs = DOCS.filter(([source]) => existsSync(path.join(repoRoot, source)));
  const hasGuide = docs.some(([, page]) => page === "guide.md");
  const guideText = hasGuide ? readFileSync(path.join(repoRoot, "README.md"), "utf8") : "";
  const guideAnchors = [...headingAnchors(scanLines(guideText)).values()];
  const servicesAnchor = guideAnchors.find((a) => a === "quick-start") ?? null;
  // Written as the README would write it (relative to exercises/weekNN-topic/README.md): the
  // links plugin turns it into the guide page's route like any other link.
  const guideServicesLink = hasGuide ? `../../README.md${servicesAnchor ? `#${servicesAnchor}` : ""}` : null;

  for (const week of weeks) {
    const readme = week.readme ?? readmeFromManifest(week);
    if (week.readme === null) warnings.push(`${week.readmePath}: missing; the page shows what week.json says`);
    const result = addKataCards(readme, week, { guideServicesLink });
    warnings.push(...result.warnings);
    anchors.set(week.folder, result.anchors);
    const page = weekPage(week);
    const head = frontmatter({
      title: `Week ${week.number} · ${week.title}`,
      description: week.summary,
      outline: [2, 3],
      source: week.readme === null ? `exercises/${week.folder}/week.json` : week.readmePath,
      editUrl: repo && week.readme !== null ? `${repo.url}/edit/${repo.branch}/${week.readmePath}` : undefined,
    });
    const h1 = scanLines(readme).some((l) => l.level === 1) ? "" : `# Week ${week.number} · ${week.title}\n\n`;
    files.set(page, `${head}\n${h1}${result.markdown}`);
    pages.push({ page, source: week.readme === null ? null : week.readmePath, title: week.title, week });
  }

  for (const [source, page, label] of docs) {
    const text = readFileSync(path.join(repoRoot, source), "utf8");
    const head = frontmatter({
      title: label,
      outline: [2, 3],
      source,
      editUrl: repo ? `${repo.url}/edit/${repo.branch}/${source}` : undefined,
    });
    files.set(page, `${head}\n${text}`);
    pages.push({ page, source, title: label });
  }

  const intro = readmeIntro(guideText);
  files.set("index.md", homePage(weeks, { intro, anchors, hasGuide }));
  pages.push({ page: "index.md", source: null, title: intro.title });

  writePages(srcDir, files);
  copyMermaid(srcDir);
  // The site's own static files (the favicon): site/public is copied into the source's public/.
  const ownPublic = path.join(path.dirname(srcDir), "public");
  if (existsSync(ownPublic)) cpSync(ownPublic, path.join(srcDir, "public"), { recursive: true });

  const sourceToPage = new Map();
  for (const p of pages) {
    if (!p.source) continue;
    sourceToPage.set(p.source, p.page);
    if (p.source.endsWith("/README.md")) sourceToPage.set(p.source.slice(0, -"/README.md".length), p.page);
  }
  return {
    weeks,
    pages,
    anchors,
    sourceToPage,
    warnings,
    intro,
    docs: docs.map(([source, page, label]) => ({ source, page, label })),
  };
}
