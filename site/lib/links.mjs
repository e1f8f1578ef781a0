// A markdown-it plugin for the pages made from the repository's Markdown files. Links are
// written for GitHub (relative to the file: ../week05-rate-limiting/README.md,
// exercises/week03-caching/README.md#stampedes, src/token-bucket.ts); on the site:
// - a link to a Markdown file that is a page goes to that page (with its #anchor);
// - a link to any other file or folder of the repository goes to the repository's web view;
// - a link to a path that does not exist stops the build, naming the file and the link.
// Code spans that name an existing file of the week (`src/token-bucket.ts`) link to it too.
import { existsSync, statSync } from "node:fs";
import path from "node:path";

// Raw HTML that GitHub renders in a README. Anything else in angle brackets (`<dir>` in a
// table cell whose code span a stray "|" split, a placeholder such as <seconds>) is text
// there, and must be text here: VitePress compiles pages as Vue templates, where an unknown
// or unclosed tag fails the build.
const KNOWN_TAGS = new Set(
  (
    "a abbr b bdi bdo blockquote br caption center cite code col colgroup dd del details dfn div dl dt em " +
    "figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p picture pre q rp rt ruby s samp " +
    "small source span strong sub summary sup table tbody td tfoot th thead time tr tt u ul var wbr"
  ).split(" "),
);
const TAG = /^<\/?([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])/;
const isKnownHtml = (html) => {
  const text = html.trim();
  if (text.startsWith("<!--")) return true;
  const match = TAG.exec(text);
  return match !== null && KNOWN_TAGS.has(match[1].toLowerCase());
};
const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;
const FILE_LIKE = /^[\w@.-]+(?:\/[\w@.-]+)+\/?$/;

/** Resolves a link written in `source` (a repository path) to what the site should link to. */
export function resolveRepoLink(href, source, { repoRoot, sourceToPage, repo }) {
  if (href === "" || href.startsWith("#") || EXTERNAL.test(href)) return { kind: "keep" };
  const hashAt = href.indexOf("#");
  const hash = hashAt >= 0 ? href.slice(hashAt) : "";
  const pathPart = (hashAt >= 0 ? href.slice(0, hashAt) : href).replace(/\?.*$/, "");
  let decoded;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    decoded = pathPart;
  }
  const joined = decoded.startsWith("/") ? decoded.slice(1) : path.posix.join(path.posix.dirname(source), decoded);
  const target = path.posix.normalize(joined).replace(/\/$/, "").replace(/^\.$/, "");
  if (target.startsWith("../") || target === "..") {
    return { kind: "error", message: `points outside the repository (${target})` };
  }
  const page = sourceToPage.get(target) ?? sourceToPage.get(`${target}/README.md`.replace(/^\//, ""));
  if (page !== undefined) return { kind: "page", href: `/${page}${hash}` };
  const file = path.join(repoRoot, target);
  if (!existsSync(file)) return { kind: "error", message: `no such file in the repository (${target || "."})` };
  if (!repo) return { kind: "unlinked", target };
  const view = statSync(file).isDirectory() ? "tree" : "blob";
  return { kind: "repo", href: `${repo.url}/${view}/${encodeURI(repo.branch)}/${encodeURI(target)}${hash}` };
}

/**
 * The plugin. `sourceOf(relativePath)` gives the repository path a page was made from
 * (null for pages the site writes itself, whose links are already site routes).
 */
export function repoLinksPlugin(md, options) {
  const { sourceOf, repoRoot, onUnlinked = () => {} } = options;

  const fail = (source, href, message) => {
    throw new Error(`${source}: the link "${href}" ${message}`);
  };

  // The repository's Markdown is written for GitHub, where "{{" is just text; VitePress
  // compiles a page as a Vue template, where it would be an expression.
  const text = md.renderer.rules.text;
  md.renderer.rules.text = (tokens, idx, opts, env, self) => {
    const html = text(tokens, idx, opts, env, self);
    return sourceOf(env?.relativePath ?? "")
      ? html.replace(/\{\{|\}\}/g, (m) => (m === "{{" ? "&#123;&#123;" : "&#125;&#125;"))
      : html;
  };

  md.core.ruler.push("course_repo_links", (state) => {
    const source = sourceOf(state.env?.relativePath ?? "");
    if (!source) return;
    for (const block of state.tokens) {
      if (block.type === "html_block" && !isKnownHtml(block.content)) {
        block.type = "html_block";
        block.content = `<p>${escapeHtml(block.content.trim())}</p>\n`;
      }
      if (block.type !== "inline" || !block.children) continue;
      const children = block.children;
      let depth = 0;
      for (let i = 0; i < children.length; i++) {
        const token = children[i];
        if (token.type === "html_inline" && !isKnownHtml(token.content)) {
          token.type = "text";
          continue;
        }
        if (token.type === "link_open") {
          depth++;
          const href = token.attrGet("href") ?? "";
          // linkify turns bare URLs into links; those are external and kept.
          if (token.markup === "linkify" || token.info === "auto") continue;
          const result = resolveRepoLink(href, source, options);
          if (result.kind === "error") fail(source, href, result.message);
          if (result.kind === "page" || result.kind === "repo") token.attrSet("href", result.href);
          if (result.kind === "unlinked") {
            // No repository URL configured: keep the text, drop the link.
            onUnlinked(source, result.target);
            token.type = "span_open";
            token.tag = "span";
            token.attrs = [["class", "repo-path"]];
            let nest = 0;
            for (let j = i + 1; j < children.length; j++) {
              if (children[j].type === "link_open") nest++;
              if (children[j].type === "link_close") {
                if (nest === 0) {
                  children[j].type = "span_close";
                  children[j].tag = "span";
                  break;
                }
                nest--;
              }
            }
            depth--;
          }
        } else if (token.type === "link_close") {
          depth--;
        } else if (token.type === "image") {
          const src = token.attrGet("src") ?? "";
          const result = resolveRepoLink(src, source, options);
          if (result.kind === "error") fail(source, src, result.message);
          if (result.kind === "repo") token.attrSet("src", result.href.replace("/blob/", "/raw/"));
        } else if (token.type === "code_inline" && depth === 0 && options.repo && FILE_LIKE.test(token.content)) {
          const result = resolveRepoLink(token.content, source, { ...options, repoRoot });
          if (result.kind !== "repo" && result.kind !== "page") continue;
          const open = new state.Token("link_open", "a", 1);
          open.attrs = [
            ["href", result.href],
            ["class", "repo-file"],
          ];
          const close = new state.Token("link_close", "a", -1);
          children.splice(i, 1, open, token, close);
          i += 2;
        }
      }
    }
  });
}
