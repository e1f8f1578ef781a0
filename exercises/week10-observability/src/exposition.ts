// Kata: metrics-registry
//
// A scraper and your /metrics endpoint must agree on a format before a single number gets
// through. Prometheus 3 sends an Accept header that prefers OpenMetrics 1.0.0, and it fails a
// scrape whose Content-Type is missing or wrong. This file holds the HTTP side of the registry
// and the small text rules both formats share:
// - negotiate(accept): the format to answer with. The highest q wins (q=0 means "not
//   acceptable"); at equal q, the format named more specifically (a media type with its version
//   beats the bare type, which beats type/*, which beats */*); still equal, text 0.0.4.
//   `application/openmetrics-text` without a version means 1.0.0, `text/plain` without one means
//   0.0.4; any other version (openmetrics 0.0.1, text 1.0.0) is a format this registry does not
//   write. A format's q is the q of the most specific range that matches it (of two equally
//   specific ones, the higher). An Accept naming nothing we write, or no Accept at all: text
//   0.0.4, the last resort every scraper reads. The header follows RFC 9110: media ranges
//   split on commas, parameters on semicolons (both with optional whitespace), except inside
//   a quoted string (which may hold , ; and \-escaped characters); q is 0 to 1 with at most
//   three decimals. A malformed range (no slash, */plain, q=2) is skipped, not fatal.
// - scrape(registry, accept): the body in the negotiated format with exactly its Content-Type.
// - the escapes: label values escape backslash, double quote and line feed in both formats;
//   HELP escapes backslash and line feed in 0.0.4, and double quote too in OpenMetrics.
// - numbers: NaN, +Inf and -Inf; a histogram's `le` as OpenMetrics' canonical number
//   (1 is "1.0", 0.005 is "0.005", 1e-05 and 1e+06 switch to an exponent, like Go's %g).
//
// Tests: tests/exposition.test.ts and tests/metrics-registry.test.ts (npm run check week10
// metrics-registry).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

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

/** Picks the format for a scrape from its Accept header (rules in the header comment). */
export function negotiate(accept: string | undefined): ExpositionFormat {
  // TODO: split the header into media ranges (type/subtype;param=value;q=0.5), find for each
  // format the most specific range that matches it and take that range's q, then pick.
  throw new NotImplementedError("metrics-registry");
}

/** Renders a registry for a scrape with the given Accept header, with the matching Content-Type. */
export function scrape(registry: Renderable, accept: string | undefined): Scrape {
  // TODO: negotiate, render, and pair the body with CONTENT_TYPES[format].
  throw new NotImplementedError("metrics-registry");
}

/** Escapes a label value: backslash, double quote and line feed (both formats). */
export function escapeLabelValue(value: string): string {
  // TODO
  throw new NotImplementedError("metrics-registry");
}

/** Escapes HELP text: backslash and line feed; in OpenMetrics, double quote too. */
export function escapeHelp(text: string, format: ExpositionFormat): string {
  // TODO
  throw new NotImplementedError("metrics-registry");
}

/** A sample value: NaN, +Inf, -Inf, or the number. */
export function formatSampleValue(value: number): string {
  // TODO
  throw new NotImplementedError("metrics-registry");
}

/** A bucket bound as OpenMetrics' canonical number: "0.005", "1.0", "10.0", "1e+06", "+Inf". */
export function formatBucketBound(bound: number): string {
  // TODO: toExponential() gives you the shortest digits and the exponent; below -4 or from 6
  // up, write the exponent with at least two digits (1e-05); otherwise the plain number, with
  // ".0" when it has no point.
  throw new NotImplementedError("metrics-registry");
}
