// GitHub's heading anchors, so that a link such as README.md#token-bucket-token-bucket-with-an-injected-clock
// lands on the same heading on GitHub and on the site. GitHub lowercases the heading's text,
// drops punctuation and symbols (keeping letters, digits, "_" and "-") and turns each space
// into "-"; a repeated slug gets "-1", "-2"... (markdown-it-anchor, which VitePress uses,
// numbers duplicates the same way).

const DROPPED = /[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu;

/** The anchor GitHub gives a heading whose text (without markup) is `text`. */
export function githubSlug(text) {
  return String(text).trim().toLowerCase().replace(DROPPED, "").replace(/ /g, "-");
}

/**
 * The text of a Markdown heading's source as markdown-it sees it (text and code spans, no
 * markup): links keep their text, inline HTML goes, emphasis markers go, code spans keep
 * their content verbatim (underscores included, as in `pg_stat_statements`).
 */
export function headingText(source) {
  return String(source)
    .split(/(`+[^`]*`+)/)
    .map((part, i) => {
      if (i % 2 === 1) return part.replace(/^`+|`+$/g, "");
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .replace(/\*\*|~~|\*/g, "")
        .replace(/(^|[^\p{L}\p{N}])_{1,2}(?=\S)|(?<=\S)_{1,2}(?=$|[^\p{L}\p{N}])/gu, "$1")
        .replace(/\\([!-/:-@[-`{-~])/g, "$1");
    })
    .join("")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity) => decodeEntities(entity))
    .trim();
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Decodes the HTML entities that VitePress leaves in heading text (it keeps `&amp;` as written). */
export function decodeEntities(text) {
  return String(text).replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The slugify VitePress is given: GitHub's anchors for the text markdown-it hands it. */
export const siteSlugify = (text) => githubSlug(decodeEntities(text));
