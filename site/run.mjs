#!/usr/bin/env node
// The course site's entry point, run from the repository root through npm scripts:
//   node site/run.mjs build              build the site into site/dist
//   node site/run.mjs build --serve      build, then preview it on http://localhost:4173/ (--port N)
//   node site/run.mjs dev                a dev server that regenerates pages as READMEs change
//   node site/run.mjs test               the browser test (site/test/*.test.mjs)
// Options for build: --base /path/ (default SITE_BASE or /), --out DIR (default SITE_OUT_DIR
// or site/dist). The site's dependencies live in site/package.json, apart from the course's:
// they are installed here on first use (npm ci), and again when site/package-lock.json changes.
// Only Node's built-ins are imported at the top: VitePress is loaded after it is installed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, watch } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const siteDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(siteDir, "..");
const say = (message) => process.stderr.write(`site: ${message}\n`);

function parseArgs(argv) {
  const [command = "build", ...rest] = argv;
  const options = { command, serve: false, port: undefined, base: undefined, out: undefined, passthrough: [] };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--serve") options.serve = true;
    else if (arg === "--port") options.port = Number(value());
    else if (arg.startsWith("--port=")) options.port = Number(arg.slice(7));
    else if (arg === "--base") options.base = value();
    else if (arg.startsWith("--base=")) options.base = arg.slice(7);
    else if (arg === "--out") options.out = value();
    else if (arg.startsWith("--out=")) options.out = arg.slice(6);
    else if (command === "test") options.passthrough.push(arg);
    else
      throw new Error(`unknown option ${arg} (try: build [--serve] [--port N] [--base /path/] [--out DIR], dev, test)`);
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536)) {
    throw new Error("--port needs a port number");
  }
  return options;
}

/** npm ci in site/ when site/node_modules is missing or older than site/package-lock.json. */
export function ensureDependencies() {
  const lock = path.join(siteDir, "package-lock.json");
  // npm writes node_modules/.package-lock.json last, when an install has completed.
  const installed = path.join(siteDir, "node_modules", ".package-lock.json");
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  say("installing the site's own dependencies (npm ci in site/, once)");
  const started = Date.now();
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: siteDir,
    stdio: "inherit",
    shell: process.platform === "win32",
    timeout: 10 * 60_000,
  });
  if (result.status !== 0) {
    throw new Error(`npm ci in site/ failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
  }
  say(`dependencies installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function applyBuildOptions(options) {
  if (options.base !== undefined) process.env.SITE_BASE = options.base;
  if (options.out !== undefined) process.env.SITE_OUT_DIR = path.resolve(options.out);
}

async function build(options) {
  applyBuildOptions(options);
  const vitepress = await import("vitepress");
  const started = Date.now();
  await vitepress.build(siteDir);
  const out = process.env.SITE_OUT_DIR ?? path.join(siteDir, "dist");
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${path.relative(process.cwd(), out) || "."}`);
  if (!options.serve) return;
  // VitePress prints the address; Ctrl-C stops it.
  await vitepress.serve({ root: siteDir, port: options.port ?? 4173 });
}

/** A dev server; pages are regenerated when a README, week.json or CONTRIBUTING.md changes. */
async function dev(options) {
  applyBuildOptions(options);
  const vitepress = await import("vitepress");
  const { generateSite } = await import("./lib/pages.mjs");
  const { repoSettings } = await import("./lib/settings.mjs");
  const server = await vitepress.createServer(siteDir, { port: options.port ?? 5173 });
  await server.listen();
  server.printUrls();
  let timer = null;
  const regenerate = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        const site = generateSite({ repoRoot, srcDir: path.join(siteDir, ".generated"), repo: repoSettings(repoRoot) });
        for (const warning of site.warnings) say(warning);
        say("pages regenerated (restart for a new week in the sidebar)");
      } catch (error) {
        say(error.message);
      }
    }, 150);
  };
  watch(path.join(repoRoot, "exercises"), { recursive: true }, (_event, file) => {
    if (file && /(^|[\\/])(README\.md|week\.json)$/.test(file)) regenerate();
  });
  for (const doc of ["README.md", "CONTRIBUTING.md"]) {
    if (existsSync(path.join(repoRoot, doc))) watch(path.join(repoRoot, doc), regenerate);
  }
}

/**
 * The browser test: node's test runner on site/test/*.test.mjs, bounded in time. It runs in
 * a process group of its own, so that a timeout or a Ctrl-C stops the runner and its test
 * processes together (each closes its browser on SIGTERM: Playwright's handler).
 */
function test(options) {
  const files = readdirSync(path.join(siteDir, "test"))
    .filter((f) => f.endsWith(".test.mjs"))
    .map((f) => path.join(siteDir, "test", f));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--test", "--test-timeout=420000", ...options.passthrough, ...files], {
      cwd: repoRoot,
      stdio: "inherit",
      detached: process.platform !== "win32",
    });
    const signalGroup = (signal) => {
      try {
        if (process.platform === "win32") child.kill(signal);
        else process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let killTimer = null;
    const stop = (why) => {
      if (killTimer) return;
      if (why) say(why);
      signalGroup("SIGTERM");
      killTimer = setTimeout(() => signalGroup("SIGKILL"), 15_000);
      killTimer.unref();
    };
    const limit = setTimeout(() => stop("the browser test ran past 8 minutes: stopped"), 8 * 60_000);
    const onSignal = () => stop("interrupted");
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    child.on("exit", (code, signal) => {
      clearTimeout(limit);
      clearTimeout(killTimer);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!["build", "dev", "test"].includes(options.command))
    throw new Error(`unknown command ${options.command} (build, dev or test)`);
  ensureDependencies();
  if (options.command === "build") await build(options);
  else if (options.command === "dev") await dev(options);
  else process.exitCode = await test(options);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    say(error.message ?? String(error));
    process.exitCode = 1;
  });
}
