import { afterEach } from "vitest";
import { setting } from "./settings.ts";

// A failed test's error goes to vitest's main process, which maps every frame of its stack
// through a source map; for a frame in a bundled dependency (the test runner itself) it reads
// and scans the whole file, each time. A skeleton fails every test, so that was a third of the
// main process's time in verify's skeleton run, and 0.1 s of a watch re-run. The checker reports
// messages and diffs, never stacks: in its runs the errors go without them. A plain `vitest`
// run keeps them, for the maintainer reading its output.
const enabled = setting("KATA_NO_STACKS") === "1";

/**
 * Registered first, so it runs after every other after-each hook (they run in reverse order)
 * and sees the errors those added too.
 */
afterEach((context) => {
  if (!enabled) return;
  // Vitest keeps a `stacks` it finds instead of parsing the stack again.
  for (const error of context.task.result?.errors ?? []) (error as { stacks?: unknown[] }).stacks = [];
});
