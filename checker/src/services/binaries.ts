import { constants } from "node:fs";
import { access, readdir } from "node:fs/promises";
import path from "node:path";

/** The folders of a PATH string, in order, without empties. */
export function pathDirs(envPath: string | undefined): string[] {
  return (envPath ?? "").split(path.delimiter).filter((dir) => dir.length > 0);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of the first executable `name` in `preferDirs`, then in PATH. Symlinks are kept
 * as found: Debian's redis-server is a link to a multi-call binary that reads argv[0].
 */
export async function findBinary(
  name: string,
  preferDirs: readonly string[] = [],
  envPath: string | undefined = process.env.PATH,
): Promise<string | undefined> {
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const dir of [...preferDirs, ...pathDirs(envPath)]) {
    for (const candidate of names) {
      const file = path.join(dir, candidate);
      if (await isExecutable(file)) return file;
    }
  }
  return undefined;
}

/**
 * Where packaged Postgres servers live outside PATH, one folder per major version: Debian and
 * Ubuntu, RHEL's PGDG packages, Homebrew's keg-only formulae, Postgres.app.
 */
export const POSTGRES_INSTALL_ROOTS: readonly { root: string; entry: RegExp; bin: string }[] = [
  { root: "/usr/lib/postgresql", entry: /^(\d+(?:\.\d+)?)$/, bin: "bin" },
  { root: "/usr", entry: /^pgsql-(\d+(?:\.\d+)?)$/, bin: "bin" },
  { root: "/opt/homebrew/opt", entry: /^postgresql@(\d+(?:\.\d+)?)$/, bin: "bin" },
  { root: "/usr/local/opt", entry: /^postgresql@(\d+(?:\.\d+)?)$/, bin: "bin" },
  { root: "/Applications/Postgres.app/Contents/Versions", entry: /^(\d+(?:\.\d+)?)$/, bin: "bin" },
];

/** The versioned Postgres bin folders that exist on this machine, newest major first. */
export async function postgresBinDirs(roots = POSTGRES_INSTALL_ROOTS): Promise<string[]> {
  const found: { dir: string; version: number }[] = [];
  for (const { root, entry, bin } of roots) {
    let entries: string[];
    try {
      entries = await readdir(root);
    } catch {
      continue; // this layout is not used here
    }
    for (const name of entries) {
      const match = entry.exec(name);
      if (match?.[1] !== undefined)
        found.push({ dir: path.join(root, name, bin), version: Number.parseFloat(match[1]) });
    }
  }
  return found.sort((a, b) => b.version - a.version).map((f) => f.dir);
}
