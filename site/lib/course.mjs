// Reads the course as it is on disk: every exercises/weekNN-topic folder with its week.json
// and README.md. Nothing is registered anywhere else, so a new week shows up on the site
// the next time it is built.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const WEEK_FOLDER = /^week(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;

/** Services a kata can declare in week.json, as the READMEs and the checker name them. */
export const SERVICE_LABELS = { redis: "Redis", postgres: "Postgres", rabbitmq: "RabbitMQ" };

/** A problem in the course's files that makes the site wrong: the build stops on it. */
export class SiteError extends Error {
  name = "SiteError";
}

const isText = (value) => typeof value === "string" && value.trim().length > 0;
const isTextList = (value) => Array.isArray(value) && value.every((item) => typeof item === "string");

/**
 * Parses one week.json. The checker validates the full schema (npm run verify); the site
 * checks only the fields it shows, so that it names the file and field it cannot render.
 */
export function parseWeekManifest(file, text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SiteError(`${file}: not valid JSON (${error.message})`);
  }
  const fail = (what) => {
    throw new SiteError(`${file}: ${what}`);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("expected an object");
  if (!isText(json.title)) fail("title: a non-empty string is required");
  if (!isText(json.summary)) fail("summary: a non-empty string is required");
  if (!Array.isArray(json.katas) || json.katas.length === 0) fail("katas: a non-empty list is required");
  const katas = json.katas.map((kata, index) => {
    const where = `katas[${index}]`;
    if (kata === null || typeof kata !== "object") fail(`${where}: expected an object`);
    if (!isText(kata.id) || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(kata.id)) fail(`${where}.id: a kebab-case id`);
    if (!isText(kata.title)) fail(`${where}.title: a non-empty string is required`);
    for (const field of ["files", "tests", "services", "hints", "buildsOn"]) {
      if (kata[field] !== undefined && !isTextList(kata[field])) fail(`${where}.${field}: a list of strings`);
    }
    const services = kata.services ?? [];
    for (const service of services) {
      if (!(service in SERVICE_LABELS)) fail(`${where}.services: unknown service "${service}"`);
    }
    return {
      id: kata.id,
      title: kata.title,
      files: kata.files ?? [],
      services,
      hints: kata.hints ?? [],
      buildsOn: kata.buildsOn ?? [],
      points: Number.isInteger(kata.points) && kata.points > 0 ? kata.points : 1,
    };
  });
  return { title: json.title.trim(), summary: json.summary.trim(), katas };
}

/**
 * Every week folder under exercises/, in week order. A week without a README still gets a
 * page (from its week.json); a malformed week.json stops the build with the file and field.
 */
export function loadWeeks(repoRoot) {
  const exercises = path.join(repoRoot, "exercises");
  if (!existsSync(exercises)) throw new SiteError(`no exercises/ folder in ${repoRoot}`);
  const weeks = [];
  for (const entry of readdirSync(exercises, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const match = WEEK_FOLDER.exec(entry.name);
    if (!match) continue;
    const folder = entry.name;
    const manifestPath = `exercises/${folder}/week.json`;
    const manifestFile = path.join(repoRoot, manifestPath);
    // A folder that has no manifest yet is a week being started, not one to publish.
    if (!existsSync(manifestFile)) continue;
    const manifest = parseWeekManifest(manifestPath, readFileSync(manifestFile, "utf8"));
    const readmePath = `exercises/${folder}/README.md`;
    const readmeFile = path.join(repoRoot, readmePath);
    weeks.push({
      folder,
      number: Number(match[1]),
      topic: match[2],
      ...manifest,
      readmePath,
      readme: existsSync(readmeFile) ? readFileSync(readmeFile, "utf8") : null,
    });
  }
  weeks.sort((a, b) => a.number - b.number || a.folder.localeCompare(b.folder));
  for (let i = 1; i < weeks.length; i++) {
    if (weeks[i].number === weeks[i - 1].number) {
      throw new SiteError(
        `exercises/${weeks[i - 1].folder} and exercises/${weeks[i].folder} have the same week number`,
      );
    }
  }
  return weeks;
}

/** The command a learner types for a kata, as the checker accepts it: `npm run check week5 token-bucket`. */
export const checkCommand = (week, kata) => `npm run check week${week.number} ${kata.id}`;
export const hintCommand = (week, kata) => `npm run hint week${week.number} ${kata.id}`;
