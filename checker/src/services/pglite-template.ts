import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

/**
 * PGlite runs initdb (in WASM) on every fresh start: 2 s on an idle 2-core machine, up to
 * 8 s on a busy one. Loading a data dir dumped right after a fresh start takes ~0.6-0.9 s.
 * So the first embedded start saves one, keyed by PGlite's version, and later runs load it.
 */

/** Where the template lives: node_modules/.cache (gone with node_modules, like other tools' caches), else the temp dir. */
export function defaultTemplateFile(): string {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("@electric-sql/pglite");
    const marker = `${path.sep}node_modules${path.sep}`;
    const nodeModules = entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
    const manifest = JSON.parse(
      readFileSync(path.join(nodeModules, "@electric-sql", "pglite", "package.json"), "utf8"),
    ) as { version?: string };
    return path.join(nodeModules, ".cache", "kata-checker", `pglite-${manifest.version ?? "unknown"}-datadir.tar.gz`);
  } catch {
    return path.join(os.tmpdir(), `kata-checker-${process.getuid?.() ?? "user"}`, "pglite-datadir.tar.gz");
  }
}

/** The saved data dir, or undefined when there is none (or it cannot be read). */
export async function readTemplate(file: string): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(file)]);
  } catch {
    return undefined;
  }
}

/** Saves a data dir dump atomically (a concurrent run never reads half a file). Best effort. */
export async function saveTemplate(file: string, dump: Blob): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } catch {
    // A read-only install only loses the speed-up.
    await rm(partial, { force: true }).catch(() => {});
  }
}

/** Removes a template that PGlite refused to load, so the next run makes a fresh one. */
export async function discardTemplate(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => {});
}
