/** The two text formats a scraper can ask for. */
export type ExpositionFormat = "prometheus-0.0.4" | "openmetrics-1.0.0";

/** The exact Content-Type of each format: Prometheus 3 refuses a scrape whose type it cannot tell. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  "prometheus-0.0.4": "text/plain; version=0.0.4; charset=utf-8",
  "openmetrics-1.0.0": "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** What a scrape answers: the body and the Content-Type that tells the scraper how to read it. */
export interface Scrape {
  format: ExpositionFormat;
  contentType: string;
  body: string;
}

/** Anything that renders itself in either format: the Registry. */
export interface Renderable {
  render(format: ExpositionFormat): string;
}

/** One media range of an Accept header. */
interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
}

/**
 * Splits a header on `sep` outside quoted strings: a quoted parameter may hold a comma or a
 * semicolon, and a naive split would cut it in two.
 */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  return value;
}

/** Parses one media range; a malformed one is skipped rather than failing the whole header. */
function parseMediaRange(text: string): MediaRange | undefined {
  const [full = "", ...rawParams] = splitOutsideQuotes(text, ";");
  const slash = full.indexOf("/");
  if (slash < 0) return undefined;
  const type = full.slice(0, slash).trim().toLowerCase();
  const subtype = full
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  // */plain is not a media range; any other malformed type simply matches nothing.
  if (type === "*" && subtype !== "*") return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (const raw of rawParams) {
    const eq = raw.indexOf("=");
    if (eq < 0) continue;
    const name = raw.slice(0, eq).trim().toLowerCase();
    const value = unquote(raw.slice(eq + 1).trim());
    if (name === "q") {
      // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
      if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return undefined;
      q = Number(value);
    } else {
      params.set(name, value);
    }
  }
  return { type, subtype, params, q };
}

interface Offer {
  format: ExpositionFormat;
  type: string;
  subtype: string;
  version: string;
}

const OFFERS: readonly Offer[] = [
  { format: "openmetrics-1.0.0", type: "application", subtype: "openmetrics-text", version: "1.0.0" },
  { format: "prometheus-0.0.4", type: "text", subtype: "plain", version: "0.0.4" },
];

/**
 * How specifically `range` names `offer`: 3 with a matching version, 2 by type only, 1 for
 * type/*, 0 for * / *, -1 when it does not match at all (another type, or another version:
 * `text/plain;version=1.0.0` asks for a format this registry does not write).
 */
function specificity(range: MediaRange, offer: Offer): number {
  if (range.type === "*") return 0;
  if (range.type !== offer.type) return -1;
  if (range.subtype === "*") return 1;
  if (range.subtype !== offer.subtype) return -1;
  const version = range.params.get("version");
  if (version === undefined) return 2;
  return version === offer.version ? 3 : -1;
}

/**
 * Picks the format for a scrape from its Accept header, as Prometheus' content negotiation
 * describes: the highest quality wins; at equal quality, the format named more specifically;
 * still equal, text 0.0.4. A header naming nothing this registry writes (or none at all) gets
 * text 0.0.4, the format every scraper reads.
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (!accept) return "prometheus-0.0.4";
  const ranges: MediaRange[] = [];
  for (const part of splitOutsideQuotes(accept, ",")) {
    const range = parseMediaRange(part);
    if (range) ranges.push(range);
  }
  let best: { format: ExpositionFormat; q: number; specificity: number } | undefined;
  for (const offer of OFFERS) {
    // RFC 9110 §12.5.1: the most specific range that matches decides the offer's quality.
    let match: { q: number; specificity: number } | undefined;
    for (const range of ranges) {
      const s = specificity(range, offer);
      if (s < 0) continue;
      if (!match || s > match.specificity || (s === match.specificity && range.q > match.q))
        match = { q: range.q, specificity: s };
    }
    if (!match || match.q <= 0) continue;
    const better =
      !best ||
      match.q > best.q ||
      (match.q === best.q && match.specificity > best.specificity) ||
      (match.q === best.q && match.specificity === best.specificity && offer.format === "prometheus-0.0.4");
    if (better) best = { format: offer.format, q: match.q, specificity: match.specificity };
  }
  return best?.format ?? "prometheus-0.0.4";
}

/** Renders a registry for a scrape with the given Accept header, with the matching Content-Type. */
export function scrape(registry: Renderable, accept: string | undefined): Scrape {
  const format = negotiate(accept);
  return { format, contentType: CONTENT_TYPES[format], body: registry.render(format) };
}

const LABEL_SPECIALS = /[\\"\n]/;

/** Escapes a label value: backslash, double quote and line feed (both formats). */
export function escapeLabelValue(value: string): string {
  if (!LABEL_SPECIALS.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Escapes HELP text. 0.0.4 escapes only backslash and line feed (a `\"` there is an invalid
 * escape that fails the scrape); OpenMetrics escapes double quotes too.
 */
export function escapeHelp(text: string, format: ExpositionFormat): string {
  const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return format === "openmetrics-1.0.0" ? escaped.replace(/"/g, '\\"') : escaped;
}

/** A sample value: NaN, +Inf and -Inf spelled as both formats read them, numbers as JavaScript prints them. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/**
 * A bucket bound as OpenMetrics' canonical numbers want it: Go's shortest %g with ".0" added to
 * a number without a point or an exponent (1 is "1.0", 1e-05 and 1e+06 switch to an exponent).
 * The same text in both formats keeps a series' identity when a target changes format.
 */
export function formatBucketBound(bound: number): string {
  if (!Number.isFinite(bound)) return formatSampleValue(bound);
  const [mantissa = "", exponentText = ""] = bound.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponentText.startsWith("-") ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const plain = String(bound);
  return plain.includes(".") ? plain : `${plain}.0`;
}
