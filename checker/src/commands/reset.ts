import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveKata, resolveWeek, weekLabel } from "../course/select";
import { CheckerError } from "../errors";
import { readLock, sha256 } from "../integrity/course-lock";
import type { CommandContext } from "./context";

/**
 * Finds the skeleton as the course shipped it: the newest version in git history whose hash
 * is the one the course lock records. The working copy (the learner's) is never trusted.
 */
export function findSkeleton(root: string, rel: string, expectedHash: string): string | undefined {
  let commits: string[];
  try {
    commits = execFileSync("git", ["log", "--format=%H", "--", rel], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    })
      .split("\n")
      .filter(Boolean);
  } catch {
    return undefined;
  }
  for (const commit of commits) {
    try {
      const content = execFileSync("git", ["show", `${commit}:${rel}`], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        maxBuffer: 16 * 1024 * 1024,
      });
      if (sha256(content) === expectedHash) return content;
    } catch {
      // The file did not exist in that commit (a rename); keep looking.
    }
  }
  return undefined;
}

/** `npm run reset week5 token-bucket`: restores the skeleton, after saving the learner's files. */
export async function resetCommand(
  ctx: CommandContext,
  { week: weekArg, kata: kataArg }: { week: string; kata: string },
): Promise<number> {
  const week = resolveWeek(ctx.course, weekArg);
  const kata = resolveKata(week, kataArg);
  const lock = readLock(ctx.course.root);
  if (!lock)
    throw new CheckerError(
      "E_RESET",
      "course.lock.json is missing, so the original skeletons cannot be told apart",
      "git checkout course.lock.json",
    );

  // Find every original first: a reset that restores half a kata is worse than none.
  const originals = kata.files.map((file) => {
    const rel = `exercises/${week.id}/${file}`;
    const hash = lock.skeletons[rel];
    const content = hash ? findSkeleton(ctx.course.root, rel, hash) : undefined;
    if (content === undefined) {
      throw new CheckerError(
        "E_RESET",
        `cannot find the original skeleton of ${rel} in git history`,
        `git log -- ${rel}`,
      );
    }
    return { rel, content };
  });

  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const backupDir = path.join(ctx.course.root, ".backup", week.id, kata.id, stamp);
  for (const { rel, content } of originals) {
    const file = path.join(ctx.course.root, rel);
    if (existsSync(file)) {
      const saved = path.join(backupDir, rel);
      mkdirSync(path.dirname(saved), { recursive: true });
      copyFileSync(file, saved);
    }
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  ctx.out(
    `restored the skeleton of ${weekLabel(week)} ${kata.id}; your version is saved in ${path.relative(ctx.course.root, backupDir)}/`,
  );
  ctx.out(`next: npm run check ${weekLabel(week)} ${kata.id}`);
  return 0;
}
