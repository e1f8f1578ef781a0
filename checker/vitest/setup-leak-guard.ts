import { afterAll } from "vitest";
import { resourceCounts, waitWhile } from "./loop-resources.ts";
import { setting } from "./settings.ts";

// A kata that leaves a connection or a timer open after its tests is a kata that leaks in
// production: a pool that never drains, a process that cannot exit. Resources are compared
// with what the fork held before the test file loaded; whatever remains after the file's own
// hooks (registered later, so run earlier) and a short drain fails the file.
const WATCHED: Record<string, string> = {
  TCPSocketWrap: "network connection",
  TCPServerWrap: "listening server",
  Timeout: "timer (setInterval or setTimeout never cleared)",
  PipeWrap: "pipe",
  ChildProcess: "child process",
};

function count(): Map<string, number> {
  return new Map([...resourceCounts()].filter(([type]) => type in WATCHED));
}

function leaked(baseline: Map<string, number>): string[] {
  const found: string[] = [];
  for (const [type, n] of count()) {
    const extra = n - (baseline.get(type) ?? 0);
    if (extra > 0) found.push(`${extra} ${WATCHED[type]}${extra > 1 ? "s" : ""}`);
  }
  return found;
}

const baseline = count();
/** How long closing sockets get to go. */
const DRAIN_MS = 450;
// Read before any learner code runs: learner code setting the variable changes nothing.
const enabled = setting("KATA_LEAK_GUARD") !== "0";

afterAll(async () => {
  if (!enabled) return;
  // Closing sockets take a turn or two of the loop to go, and vitest's own report timer
  // (at most 100 ms) counts as a timer until it fires: look again until they are gone.
  await waitWhile(() => leaked(baseline).length > 0, DRAIN_MS);
  const open = leaked(baseline);
  if (open.length > 0) {
    throw new Error(
      `after the tests finished, your code left open: ${open.join(", ")}. Close what you open (quit clients, end pools, clear timers, close servers).`,
    );
  }
});
