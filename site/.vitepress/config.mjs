// The course site. The pages are generated from the repository when this configuration
// loads (site/lib/pages.mjs), so `vitepress build` always shows the weeks as they are.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitepress";
import { withMermaid } from "vitepress-plugin-mermaid";
import { repoLinksPlugin } from "../lib/links.mjs";
import { generateSite } from "../lib/pages.mjs";
import { normalizeBase, repoSettings } from "../lib/settings.mjs";
import { siteSlugify } from "../lib/slug.mjs";

const siteDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(siteDir, "..");
const srcDir = path.join(siteDir, ".generated");
const repo = repoSettings(repoRoot);
const site = generateSite({ repoRoot, srcDir, repo });

for (const warning of site.warnings) console.warn(`site: ${warning}`);
const unlinked = new Set();
if (!repo) {
  console.warn(
    "site: no repository URL (SITE_REPO_URL, GITHUB_REPOSITORY or a git remote): " +
      "links to source files are shown as plain text",
  );
}

const sourceByPage = new Map(site.pages.map((p) => [p.page, p.source]));
const route = (page) => `/${page.replace(/(^|\/)index\.md$/, "$1").replace(/\.md$/, "")}`;

const weekItems = site.weeks.map((week) => ({
  text: `${week.number}. ${week.title}`,
  link: route(`weeks/${week.folder}.md`),
  collapsed: true,
  items: week.katas.map((kata) => ({
    text: kata.id,
    link: `${route(`weeks/${week.folder}.md`)}#${site.anchors.get(week.folder)?.get(kata.id) ?? ""}`,
  })),
}));

const base = normalizeBase(process.env.SITE_BASE);

export default withMermaid(
  defineConfig({
    title: site.intro.title,
    description: site.intro.tagline,
    lang: "en",
    base,
    // VitePress does not prefix head links with the base.
    head: [["link", { rel: "icon", type: "image/svg+xml", href: `${base}favicon.svg` }]],
    srcDir,
    outDir: process.env.SITE_OUT_DIR ? path.resolve(process.env.SITE_OUT_DIR) : path.join(siteDir, "dist"),
    cacheDir: path.join(siteDir, ".vitepress", "cache"),
    // A link to a page that does not exist fails the build.
    ignoreDeadLinks: false,
    cleanUrls: false,
    lastUpdated: false,
    markdown: {
      anchor: { slugify: siteSlugify },
      headers: { slugify: siteSlugify },
      config(md) {
        md.use(repoLinksPlugin, {
          repoRoot,
          repo,
          sourceToPage: site.sourceToPage,
          sourceOf: (relativePath) => sourceByPage.get(relativePath.replace(/\\/g, "/")) ?? null,
          onUnlinked: (source, target) => unlinked.add(`${source} -> ${target}`),
        });
      },
    },
    mermaid: {
      // The diagrams are the course's own; no click handlers or HTML labels need "loose".
      securityLevel: "strict",
    },
    themeConfig: {
      nav: [
        {
          text: "Weeks",
          items: site.weeks.map((w) => ({ text: `${w.number}. ${w.title}`, link: route(`weeks/${w.folder}.md`) })),
        },
        ...site.docs.map((d) => ({ text: d.label, link: route(d.page) })),
      ],
      sidebar: [
        {
          text: "Course",
          items: [{ text: "Home", link: "/" }, ...site.docs.map((d) => ({ text: d.label, link: route(d.page) }))],
        },
        { text: "Weeks", items: weekItems },
      ],
      outline: { level: [2, 3], label: "On this page" },
      search: { provider: "local" },
      socialLinks: repo ? [{ icon: "github", link: repo.url }] : [],
      editLink: repo ? { pattern: ({ frontmatter }) => frontmatter.editUrl ?? "", text: "Edit this page" } : undefined,
      footer: { message: "Generated from the course repository's READMEs and week.json files." },
    },
    vite: {
      resolve: {
        alias: [{ find: /^mermaid$/, replacement: path.join(siteDir, ".vitepress", "theme", "mermaid-loader.mjs") }],
      },
    },
  }),
);
