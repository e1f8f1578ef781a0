/**
 * The .dockerignore rules as Docker applies them (moby/patternmatcher and its ignorefile
 * reader), to check which files of a build context a learner's .dockerignore keeps out:
 * - a line starting with # is a comment; lines are trimmed; empty lines are skipped;
 * - patterns are cleaned like Go's filepath.Clean, and a leading / is dropped: every pattern
 *   is anchored at the context root (unlike .gitignore, `.env` does NOT match `config/.env`);
 * - `*` and `?` stay inside one path segment; `**` spans any number of segments;
 * - `!pattern` re-includes; the last pattern that matches decides;
 * - a pattern that matches a directory matches everything below it.
 */

interface Pattern {
  readonly exclusion: boolean;
  readonly regexp: RegExp;
}

/** Go's filepath.Clean for slash paths. */
function clean(p: string): string {
  const absolute = p.startsWith("/");
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

function toRegExp(pattern: string): RegExp {
  let out = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") i++;
        out += i + 1 >= pattern.length ? ".*" : "(.*/)?";
      } else out += "[^/]*";
    } else if (ch === "?") out += "[^/]";
    else if (ch === "\\" && i + 1 < pattern.length) out += `\\${pattern[++i]}`;
    else if (ch === "[" || ch === "]") out += ch;
    else out += ch.replace(/[.+()|{}$^]/g, "\\$&");
  }
  return new RegExp(`${out}$`);
}

/** Reads a .dockerignore text into patterns, the way Docker's ignorefile reader does. */
export function parseDockerignore(text: string): Pattern[] {
  const patterns: Pattern[] = [];
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    if (raw.startsWith("#")) continue;
    let line = raw.trim();
    if (line === "") continue;
    const exclusion = line.startsWith("!");
    if (exclusion) line = line.slice(1).trim();
    if (line === "") continue;
    line = clean(line);
    if (line.length > 1 && line.startsWith("/")) line = line.slice(1);
    patterns.push({ exclusion, regexp: toRegExp(line) });
  }
  return patterns;
}

/** Whether Docker leaves `file` (a slash path relative to the context) out of the build context. */
export function isIgnored(patterns: readonly Pattern[], file: string): boolean {
  const cleaned = clean(file);
  const dirs = cleaned.split("/").slice(0, -1);
  const candidates = [cleaned, ...dirs.map((_, i) => dirs.slice(0, i + 1).join("/"))];
  let matched = false;
  for (const pattern of patterns) {
    // As in patternmatcher: an inclusion is only tried once matched, an exclusion once not.
    if (pattern.exclusion !== matched) continue;
    if (candidates.some((c) => pattern.regexp.test(c))) matched = !pattern.exclusion;
  }
  return matched;
}
