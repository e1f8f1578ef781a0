// Puts a "run it" card into each kata section of a week page: the command that runs the
// kata and the services it needs, both taken from week.json so they are never typed twice.
// The README's own "- Run:" and "- Services:" bullets are replaced by the card (a note in
// parentheses after the services, such as "(the tests use an in-memory limiter)", is kept),
// and a README that disagrees with week.json is reported.
import { checkCommand, hintCommand, SERVICE_LABELS } from "./course.mjs";
import { scanLines } from "./markdown-lines.mjs";
import { githubSlug, headingText } from "./slug.mjs";

const BULLET = /^[-*+][ \t]+(Run|Services)[ \t]*:[ \t]*(.*)$/i;
const LIST_ITEM = /^[-*+][ \t]+/;

/** The anchors of a page's headings, unique as markdown-it-anchor (and GitHub) make them. */
export function headingAnchors(scanned) {
  const used = new Set();
  const anchors = new Map();
  for (const entry of scanned) {
    if (entry.level === undefined) continue;
    const base = githubSlug(headingText(entry.text));
    let slug = base;
    for (let n = 1; used.has(slug); n++) slug = `${base}-${n}`;
    used.add(slug);
    anchors.set(entry.index, slug);
  }
  return anchors;
}

/** Which kata a heading introduces: "### token-bucket: Title", "### `token-bucket`: Title" or "### token-bucket". */
function kataOfHeading(text, ids) {
  const plain = headingText(text);
  for (const id of ids) {
    if (plain === id || plain.startsWith(`${id}:`) || plain.startsWith(`${id} `)) return id;
  }
  return null;
}

/** The list item that starts at `start` with its continuation lines (indented, not blank). */
function itemEnd(lines, start) {
  let end = start + 1;
  while (end < lines.length && /^[ \t]+\S/.test(lines[end]) && !LIST_ITEM.test(lines[end].trimStart())) end++;
  return end;
}

function splitServices(text) {
  const paren = text.indexOf("(");
  const names = (paren >= 0 ? text.slice(0, paren) : text).trim();
  const note = paren >= 0 ? text.slice(paren).trim() : "";
  const list =
    /^none\.?$/i.test(names) || names === ""
      ? []
      : names
          .split(/,|\band\b/)
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean);
  return { list, note };
}

function sameSet(a, b) {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function card(week, kata, { note, anchorOf, guideServicesLink }) {
  const services = kata.services.length === 0 ? "none" : kata.services.map((s) => SERVICE_LABELS[s]).join(", ");
  const servicesHelp =
    kata.services.length > 0 && guideServicesLink
      ? ` (the checker finds or starts ${kata.services.length > 1 ? "them" : "it"}: [how](${guideServicesLink}))`
      : "";
  const lines = [
    `<div class="kata-card" data-kata="${kata.id}" data-services="${kata.services.join(" ")}">`,
    "",
    `**Run it**`,
    "",
    "```sh",
    checkCommand(week, kata),
    "```",
    "",
    `- **Services:** ${services}${note ? ` ${note}` : ""}${servicesHelp}`,
  ];
  if (kata.buildsOn.length > 0) {
    const links = kata.buildsOn.map((id) => (anchorOf.has(id) ? `[${id}](#${anchorOf.get(id)})` : `\`${id}\``));
    lines.push(
      `- **Builds on:** ${links.join(", ")} (its tests also run that code: ` +
        `do ${kata.buildsOn.length > 1 ? "those" : "it"} first)`,
    );
  }
  if (kata.hints.length > 0) {
    lines.push(
      `- **Stuck?** \`${hintCommand(week, kata)}\` shows the next of its ${kata.hints.length} hints, one at a time.`,
    );
  }
  if (kata.points !== 1) lines.push(`- **Points:** ${kata.points}`);
  lines.push("", "</div>");
  return lines;
}

/**
 * Adds the cards to a week's README. Returns the page's Markdown, each kata's anchor on the
 * page and the disagreements found between the README and week.json.
 */
export function addKataCards(markdown, week, { guideServicesLink = null } = {}) {
  const warnings = [];
  const scanned = scanLines(markdown);
  const anchors = headingAnchors(scanned);
  const ids = week.katas.map((k) => k.id);
  const lines = markdown.split("\n");

  // Each kata's section: from its heading to the next heading of the same or a higher level.
  const sections = new Map();
  for (const [i, entry] of scanned.entries()) {
    if (entry.level === undefined) continue;
    const id = kataOfHeading(entry.text, ids);
    if (!id || sections.has(id)) continue;
    let end = scanned.length;
    for (let j = i + 1; j < scanned.length; j++) {
      if (scanned[j].level !== undefined && scanned[j].level <= entry.level) {
        end = j;
        break;
      }
    }
    sections.set(id, { start: entry.index, end, anchor: anchors.get(entry.index) });
  }
  const anchorOf = new Map([...sections].map(([id, s]) => [id, s.anchor]));

  // Edits from the bottom up, so the line numbers above stay valid.
  const edits = [];
  for (const kata of week.katas) {
    const section = sections.get(kata.id);
    if (!section) continue;
    let note = "";
    let insertAt = null;
    const removed = [];
    for (let i = section.start + 1; i < section.end; i++) {
      if (scanned[i].inFence) continue;
      const match = BULLET.exec(lines[i]);
      if (!match) continue;
      const end = itemEnd(lines, i);
      const text = [match[2], ...lines.slice(i + 1, end).map((l) => l.trim())].join(" ").trim();
      if (match[1].toLowerCase() === "run") {
        const said = /`([^`]+)`/.exec(text)?.[1] ?? text;
        if (said !== checkCommand(week, kata)) {
          warnings.push(`${week.readmePath}: ${kata.id} says "${said}", week.json gives "${checkCommand(week, kata)}"`);
        }
      } else {
        const { list, note: n } = splitServices(text);
        note = n;
        const labels = kata.services.map((s) => SERVICE_LABELS[s].toLowerCase());
        if (!sameSet(list, labels)) {
          warnings.push(
            `${week.readmePath}: ${kata.id} lists services "${text}", week.json has [${kata.services.join(", ")}]`,
          );
        }
      }
      removed.push([i, end]);
      i = end - 1;
    }
    if (removed.length > 0) {
      // After the list that held the bullets: the first blank line (or heading) below the last one.
      let at = removed[removed.length - 1][1];
      while (at < section.end && lines[at].trim() !== "" && !(scanned[at].level !== undefined)) at++;
      insertAt = at;
    } else {
      let at = section.end;
      while (at > section.start + 1 && lines[at - 1].trim() === "") at--;
      insertAt = at;
      warnings.push(`${week.readmePath}: ${kata.id} has no "- Run:" line; the site adds the command from week.json`);
    }
    edits.push({ removed, insertAt, card: card(week, kata, { note, anchorOf, guideServicesLink }) });
  }

  // Apply: mark removed lines, then insert cards (positions refer to the original lines).
  const drop = new Set();
  const inserts = new Map();
  for (const edit of edits) {
    for (const [from, to] of edit.removed) for (let i = from; i < to; i++) drop.add(i);
    inserts.set(edit.insertAt, [...(inserts.get(edit.insertAt) ?? []), edit.card]);
  }
  const out = [];
  for (let i = 0; i <= lines.length; i++) {
    for (const c of inserts.get(i) ?? []) {
      if (out.length > 0 && out[out.length - 1].trim() !== "") out.push("");
      out.push(...c);
      if (i < lines.length && lines[i].trim() !== "") out.push("");
    }
    if (i < lines.length && !drop.has(i)) out.push(lines[i]);
  }

  // Katas that week.json lists and the README does not describe still get a section.
  const missing = week.katas.filter((k) => !sections.has(k.id));
  if (missing.length > 0) {
    out.push("", "## Katas without a README section", "");
    for (const kata of missing) {
      warnings.push(`${week.readmePath}: no "### ${kata.id}: ..." section for kata ${kata.id}`);
      const heading = `${kata.id}: ${kata.title}`;
      anchorOf.set(kata.id, githubSlug(headingText(heading)));
      out.push(`### ${heading}`, "", ...card(week, kata, { note: "", anchorOf, guideServicesLink }), "");
    }
  }
  return { markdown: out.join("\n"), anchors: anchorOf, warnings };
}
