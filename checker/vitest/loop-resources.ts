// What holds a test fork's event loop open, for the guards that run after a file's tests. The
// functions are taken as this module loads, from the setup files, before any learner module:
// learner code replacing them changes nothing here.
const activeResources = process.getActiveResourcesInfo.bind(process);
const now = performance.now.bind(performance);
const later = globalThis.setTimeout;

/** How often a wait looks again. */
const STEP_MS = 5;

/** The resources holding the event loop open, counted by type (unref'd ones are not listed). */
export function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of activeResources()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Waits while `busy()` holds, looking every few ms, for at most `boundMs`. */
export async function waitWhile(busy: () => boolean, boundMs: number): Promise<void> {
  const until = now() + boundMs;
  while (busy() && now() < until) await new Promise((resolve) => later(resolve, STEP_MS));
}
