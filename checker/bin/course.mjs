#!/usr/bin/env node
// The checker's entry. The checker is TypeScript; loading it through tsx would route every
// module vitest loads through tsx's hooks too and double the start-up, so it is bundled once
// with esbuild into checker/dist and rebuilt only when a source file is newer than the bundle.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const checkerDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const srcDir = path.join(checkerDir, "src");
const outFile = path.join(checkerDir, "dist", "cli.mjs");

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

async function ensureBuilt() {
  if (existsSync(outFile) && statSync(outFile).mtimeMs >= newestSource(srcDir)) return;
  const { build } = await import("esbuild");
  mkdirSync(path.dirname(outFile), { recursive: true });
  // Build to a private file and rename: two checker runs starting at once never load half a bundle.
  const temporary = `${outFile}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(srcDir, "cli.ts")],
    outfile: temporary,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "error",
  });
  renameSync(temporary, outFile);
}

process.env.KATA_COURSE_ROOT ??= path.dirname(checkerDir);
// Ctrl-C must still stop the servers this run started (their exit hooks run on process.exit);
// a command that handles SIGINT itself (watch) gets it instead.
process.on("SIGINT", () => {
  if (process.listenerCount("SIGINT") === 1) process.exit(130);
});
await ensureBuilt();
const { main } = await import(pathToFileURL(outFile).href);
process.exitCode = await main(process.argv.slice(2));
// Whatever a learner's code or a library left open must not keep the terminal waiting.
setTimeout(() => process.exit(process.exitCode ?? 0), 1_000).unref();
