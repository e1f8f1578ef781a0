import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CheckerError } from "../errors";
import type { CommandContext } from "./context";

// A classroom's learners must not have the reference solutions: a kata file that re-exports
// one would pass, and the answer is one `cat` away. The starter is the course without them,
// ready to push as a template repository or a GitHub Classroom assignment.

/** Never part of a starter: the references, and whatever a run leaves behind. */
const LEFT_OUT = [
  /^solutions(\/|$)/,
  /^node_modules(\/|$)/,
  /^\.git(\/|$)/,
  /^checker\/dist(\/|$)/,
  /^grade(-[^/]*)?(\/|$)/,
  /^reports(\/|$)/,
  /^\.stryker-tmp/,
  /^\.backup(\/|$)/,
  /^\.progress\.json/,
];

function keep(rel: string): boolean {
  return !LEFT_OUT.some((pattern) => pattern.test(rel));
}

/** The course's files: what git tracks when it is a repository, otherwise what is on disk. */
function courseFiles(root: string): string[] {
  try {
    const listed = execFileSync("git", ["ls-files", "-z"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return listed.split("\0").filter((f) => f.length > 0 && existsSync(path.join(root, f)));
  } catch {
    const walk = (dir: string): string[] =>
      readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = dir ? `${dir}/${entry.name}` : entry.name;
        if (!keep(rel)) return [];
        return entry.isDirectory() ? walk(rel) : [rel];
      });
    return walk("");
  }
}

/** `npm run course -- starter DIR`: writes a learner's starter repository, without solutions/. */
export async function starterCommand(ctx: CommandContext, { dir: target }: { dir: string }): Promise<number> {
  const dest = path.resolve(process.cwd(), target);
  if (dest === ctx.course.root || dest.startsWith(ctx.course.root + path.sep)) {
    throw new CheckerError(
      "E_USAGE",
      "the starter goes outside the course folder",
      "npm run course -- starter ../course-starter",
    );
  }
  if (existsSync(dest) && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    throw new CheckerError(
      "E_USAGE",
      `${target} exists and is not an empty folder`,
      `npm run course -- starter ${target}-new`,
    );
  }
  const files = courseFiles(ctx.course.root).filter(keep);
  mkdirSync(dest, { recursive: true });
  for (const rel of files) {
    mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    cpSync(path.join(ctx.course.root, rel), path.join(dest, rel));
  }
  ctx.out(`starter: wrote ${files.length} files to ${target} (no solutions/: the reference stays with you)`);
  ctx.out(
    `next: cd ${target} && git init && git add -A && git commit -m "Course starter", then push it as the class's template repository`,
  );
  return 0;
}
