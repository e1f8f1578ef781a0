// Where the site is published and where its "view the source" links point. All of it is
// configurable, so that a fork, a classroom copy or a preview builds correct links:
//   SITE_BASE        the path the site is served under ("/" locally; "/<repo>/" on GitHub Pages)
//   SITE_REPO_URL    the repository's web address (default: GitHub Actions' GITHUB_SERVER_URL
//                    and GITHUB_REPOSITORY, else the git remote "origin")
//   SITE_REPO_BRANCH the branch the source links show (default: GITHUB_REF_NAME, else the
//                    checked-out branch, else main)
//   SITE_OUT_DIR     where the built site goes (default: site/dist)
import { execFileSync } from "node:child_process";

function git(args, cwd) {
  try {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    }).trim();
  } catch {
    return "";
  }
}

/** https://github.com/o/r from git@github.com:o/r.git, ssh://git@host/o/r.git or https://host/o/r.git. */
export function webUrlOfRemote(remote) {
  const text = remote.trim();
  if (text === "") return null;
  const scp = /^[\w.-]+@([\w.-]+):(.+?)(?:\.git)?\/?$/.exec(text);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  try {
    const url = new URL(text);
    if (!/^(https?|ssh|git):$/.test(url.protocol)) return null;
    return `https://${url.hostname}${url.pathname.replace(/\.git\/?$/, "").replace(/\/$/, "")}`;
  } catch {
    return null;
  }
}

export function normalizeBase(base) {
  const trimmed = String(base ?? "").trim();
  if (trimmed === "" || trimmed === "/") return "/";
  return `/${trimmed.replace(/^\/+|\/+$/g, "")}/`;
}

/** The repository's web address and branch, or null when nothing says where it lives. */
export function repoSettings(repoRoot, env = process.env) {
  let url = env.SITE_REPO_URL?.trim() || null;
  if (!url && env.GITHUB_REPOSITORY) url = `${env.GITHUB_SERVER_URL || "https://github.com"}/${env.GITHUB_REPOSITORY}`;
  if (!url) url = webUrlOfRemote(git(["remote", "get-url", "origin"], repoRoot));
  if (!url) return null;
  let branch = env.SITE_REPO_BRANCH?.trim() || (env.GITHUB_REF_TYPE === "branch" ? env.GITHUB_REF_NAME : "") || "";
  if (!branch) {
    const head = git(["rev-parse", "--abbrev-ref", "HEAD"], repoRoot);
    branch = head && head !== "HEAD" ? head : "main";
  }
  return { url: url.replace(/\/+$/, ""), branch };
}
