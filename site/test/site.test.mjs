// The course site in a real browser: build it as GitHub Pages would serve it (under a base
// path), serve it on an ephemeral port, and drive Debian's Chromium through playwright-core.
// Screenshots of the home page and a week page go to site/test-results/ (gitignored).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkCommand, loadWeeks, SERVICE_LABELS } from "../lib/course.mjs";
import { scanLines } from "../lib/markdown-lines.mjs";
import { launchBrowser } from "./support/browser.mjs";
import { crawl, pageKey } from "./support/crawl.mjs";
import { serveStatic } from "./support/static-server.mjs";

const siteDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(siteDir, "..");
const outDir = path.join(siteDir, ".test", "dist");
const shots = path.join(siteDir, "test-results");
const BASE = "/backend-katas/";
const REPO_URL = "https://github.com/example/backend-katas";
const BUILD_TIMEOUT_MS = 240_000;
const STEP_TIMEOUT_MS = 45_000;

const weeks = loadWeeks(repoRoot);
const timings = {};

/** `node site/run.mjs build` in a child process, killed if it runs past the timeout. */
function buildSite() {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(siteDir, "run.mjs"), "build", "--base", BASE, "--out", outDir], {
      cwd: repoRoot,
      env: { ...process.env, SITE_REPO_URL: REPO_URL, SITE_REPO_BRANCH: "main" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), BUILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      timings.buildMs = Date.now() - started;
      if (code === 0) resolve(output);
      else reject(new Error(`the site build failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`));
    });
  });
}

const weekPath = (week) => `${BASE}weeks/${week.folder}.html`;
/** The line numbers of a README's ```mermaid fences, in order. */
const mermaidFences = (markdown) =>
  scanLines(markdown ?? "")
    .filter((l) => /^ {0,3}(`{3,}|~{3,})\s*mermaid\s*$/.test(l.line))
    .map((l) => l.index + 1);

describe("the course site in Chromium", { timeout: BUILD_TIMEOUT_MS + 180_000 }, () => {
  let server;
  let browser;
  let pages;
  const failures = [];

  before(async () => {
    rmSync(outDir, { recursive: true, force: true });
    await buildSite();
    server = await serveStatic(outDir, BASE);
    let started = Date.now();
    browser = await launchBrowser();
    timings.launchMs = Date.now() - started;
    started = Date.now();
    pages = await crawl(browser.context, {
      start: server.url,
      origin: server.origin,
      base: BASE,
      tabs: 2,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    timings.crawlMs = Date.now() - started;
    timings.pageMs = Object.fromEntries([...pages].map(([k, p]) => [k.slice(BASE.length), p.ms]));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    console.log(`site test timings: ${JSON.stringify({ ...timings, pages: pages?.size })}`);
  });

  it("reaches the home page, every week page and the course's own docs", () => {
    const expected = [`${BASE}index.html`, ...weeks.map(weekPath), `${BASE}guide.html`, `${BASE}contributing.html`];
    const missing = expected.filter((p) => !pages.has(p));
    assert.deepEqual(missing, [], `pages not reachable by links from the home page: ${missing.join(", ")}`);
    for (const [key, page] of pages) assert.equal(page.status, 200, `${key} answered ${page.status}`);
  });

  it("loads every page without a console error", () => {
    const errors = [...pages].flatMap(([key, page]) => page.errors.map((e) => `${key}: ${e}`));
    assert.deepEqual(errors, [], `errors while loading pages:\n${errors.join("\n")}`);
  });

  it("resolves every internal link, anchors included", async () => {
    const broken = [];
    const assets = new Map();
    for (const [from, page] of pages) {
      for (const link of page.links) {
        const url = new URL(link.href);
        if (url.origin !== server.origin) continue;
        if (!url.pathname.startsWith(BASE)) {
          broken.push(`${from}: "${link.text}" -> ${url.pathname} is outside the site's base ${BASE}`);
          continue;
        }
        if (url.pathname.endsWith(".html") || url.pathname.endsWith("/")) {
          const target = pages.get(pageKey(url.pathname));
          if (!target || target.status !== 200) {
            broken.push(`${from}: "${link.text}" -> ${url.pathname} (${target ? target.status : "not visited"})`);
          } else if (url.hash.length > 1 && !target.ids.includes(decodeURIComponent(url.hash.slice(1)))) {
            broken.push(`${from}: "${link.text}" -> ${url.pathname}${url.hash}: no such anchor on that page`);
          }
        } else {
          assets.set(url.pathname, from);
        }
      }
    }
    for (const [asset, from] of assets) {
      const response = await fetch(`${server.origin}${asset}`, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) broken.push(`${from}: ${asset} answered ${response.status}`);
    }
    assert.deepEqual(broken, [], `broken links:\n${broken.join("\n")}`);
    const sourceLinks = [...pages.values()]
      .flatMap((p) => p.links)
      .filter((l) => l.href.startsWith(`${REPO_URL}/blob/main/`));
    assert.ok(sourceLinks.length > 0, "links to source files point to the configured repository (SITE_REPO_URL)");
  });

  it("renders every Mermaid diagram of the READMEs to SVG", () => {
    let rendered = 0;
    const problems = [];
    for (const week of weeks) {
      const page = pages.get(weekPath(week));
      const fences = mermaidFences(week.readme);
      if (page.diagrams.length !== fences.length) {
        problems.push(
          `${week.readmePath}: ${fences.length} mermaid fences, ${page.diagrams.length} diagrams on the page`,
        );
      }
      for (const [i, d] of page.diagrams.entries()) {
        if (d.svg && !d.error) rendered++;
        else
          problems.push(
            `${week.readmePath}:${fences[i] ?? "?"}: this diagram did not render to an SVG (see its error above)`,
          );
      }
    }
    assert.deepEqual(problems, [], `diagrams that do not render:\n${problems.join("\n")}`);
    assert.ok(rendered > 0, "at least one diagram renders");
  });

  it("shows each kata's command and services from week.json on its week page", () => {
    for (const week of weeks) {
      const cards = new Map(pages.get(weekPath(week)).cards.map((c) => [c.kata, c]));
      for (const kata of week.katas) {
        const card = cards.get(kata.id);
        assert.ok(card, `${week.folder}: no card for kata ${kata.id}`);
        assert.equal(card.command, checkCommand(week, kata), `${week.folder}/${kata.id}: the card's command`);
        assert.equal(card.services, kata.services.join(" "), `${week.folder}/${kata.id}: the card's services`);
        const shown = kata.services.length === 0 ? ["none"] : kata.services.map((s) => SERVICE_LABELS[s]);
        for (const label of shown)
          assert.match(card.text, new RegExp(`Services:\\s*.*${label}`), `${week.folder}/${kata.id}: shows ${label}`);
      }
    }
  });

  it("finds a kata by name with the local search, and opens its section", async () => {
    const week = weeks.find((w) => w.number === 5) ?? weeks[weeks.length - 1];
    const kata = week.katas[week.katas.length - 1];
    const tab = await browser.context.newPage();
    try {
      await tab.goto(server.url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
      await tab.waitForFunction(() => document.getElementById("app")?.__vue_app__ !== undefined, null, {
        timeout: STEP_TIMEOUT_MS,
      });
      await tab.locator("#local-search button").click({ timeout: STEP_TIMEOUT_MS });
      await tab.locator("#localsearch-input").fill(kata.id, { timeout: STEP_TIMEOUT_MS });
      const result = tab.locator(`.VPLocalSearchBox .results a.result[href*="/weeks/${week.folder}.html#"]`).first();
      await result.waitFor({ timeout: STEP_TIMEOUT_MS });
      const href = await result.getAttribute("href");
      assert.ok(
        href.includes(kata.id),
        `the first result for "${kata.id}" on ${week.folder} is its section (got ${href})`,
      );
      await result.click({ timeout: STEP_TIMEOUT_MS });
      await tab.waitForURL((url) => url.pathname === weekPath(week) && url.hash.includes(kata.id), {
        timeout: STEP_TIMEOUT_MS,
      });
      await tab.locator(`.kata-card[data-kata="${kata.id}"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
      // The diagrams above the section render after the jump and push it down; it must stay in view.
      await tab.waitForFunction(
        () => [...document.querySelectorAll("div.mermaid")].every((d) => d.querySelector("svg")),
        null,
        { timeout: STEP_TIMEOUT_MS },
      );
      const id = decodeURIComponent(new URL(tab.url()).hash.slice(1));
      await tab.waitForFunction(
        (target) => {
          const top = document.getElementById(target)?.getBoundingClientRect().top ?? -1;
          return top >= 0 && top < window.innerHeight / 2;
        },
        id,
        { timeout: STEP_TIMEOUT_MS, polling: 100 },
      );
    } finally {
      await tab.close();
    }
  });

  it("saves screenshots of the home page and a week page", async () => {
    mkdirSync(shots, { recursive: true });
    const week = weeks.find((w) => w.number === 5) ?? weeks[0];
    const tab = await browser.context.newPage();
    try {
      await tab.goto(server.url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
      await tab.waitForFunction(() => document.getElementById("app")?.__vue_app__ !== undefined, null, {
        timeout: STEP_TIMEOUT_MS,
      });
      const home = path.join(shots, "home.png");
      await tab.screenshot({ path: home, fullPage: true, timeout: STEP_TIMEOUT_MS });
      await tab.goto(`${server.origin}${weekPath(week)}`, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
      await tab.waitForFunction(
        () => [...document.querySelectorAll("div.mermaid")].every((d) => d.querySelector("svg")),
        null,
        { timeout: STEP_TIMEOUT_MS },
      );
      const weekShot = path.join(shots, `${week.folder}.png`);
      await tab.screenshot({ path: weekShot, timeout: STEP_TIMEOUT_MS });
      // A kata section with its card, below the week's diagrams.
      const kata = week.katas[week.katas.length - 1];
      await tab.locator(`.kata-card[data-kata="${kata.id}"]`).scrollIntoViewIfNeeded({ timeout: STEP_TIMEOUT_MS });
      const kataShot = path.join(shots, `${week.folder}-${kata.id}.png`);
      await tab.screenshot({ path: kataShot, timeout: STEP_TIMEOUT_MS });
      console.log(`screenshots: ${[home, weekShot, kataShot].map((f) => path.relative(repoRoot, f)).join(", ")}`);
    } finally {
      await tab.close();
    }
  });
});
