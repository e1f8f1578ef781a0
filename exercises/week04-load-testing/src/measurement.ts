/**
 * Given, not a kata: the units every generator of this week shares, so that their numbers can
 * be compared. Clocks read milliseconds (like performance.now()); histograms hold whole
 * microseconds, because a histogram counts integers and a millisecond is too coarse for a
 * loopback round trip.
 */

/** The largest latency a generator records: one hour, in microseconds. */
export const HIGHEST_LATENCY_US = 3_600_000_000;

/** Significant figures of every latency histogram: 0.1 % relative error. */
export const LATENCY_SIGNIFICANT_FIGURES = 3;

/** A clock difference in milliseconds as whole microseconds, clamped to what a histogram accepts. */
export function toMicros(ms: number): number {
  if (!(ms > 0)) return 0; // also NaN, from a broken clock
  return Math.min(Math.round(ms * 1000), HIGHEST_LATENCY_US);
}

/** The key an error is counted under: its `code` (ECONNREFUSED, ETIMEDOUT, ...) or else its name. */
export function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && code !== "" ? code : error.name;
  }
  return "UNKNOWN";
}

/** Requests per status code, as the JSON-friendly record the results carry ({ "200": 98 }). */
export function countsToRecord<K extends string | number>(counts: ReadonlyMap<K, number>): Record<string, number> {
  const record: Record<string, number> = {};
  for (const [key, count] of counts) record[String(key)] = count;
  return record;
}
