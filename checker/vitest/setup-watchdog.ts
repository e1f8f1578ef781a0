import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, expect } from "vitest";
import { numberSetting, setting } from "./settings.ts";

// The watchdog: a helper thread that stops this fork when its event loop stays blocked, and
// records which test was running. Its heartbeat and handle live in this module only, out of
// reach of learner code (a global would let a blocked loop stamp the heartbeat itself).
// Read before any learner code runs, so learner code cannot change the limit.
const limitMs = numberSetting("KATA_BLOCK_LIMIT_MS");
const reportDir = setting("KATA_REPORT_DIR");

function currentFile(): string | undefined {
  return expect.getState().testPath ?? undefined;
}

const heartbeat = new SharedArrayBuffer(4);
const beats = new Int32Array(heartbeat);
const started = Date.now();
const worker = new Worker(new URL("./watchdog-worker.mjs", import.meta.url), {
  workerData: { heartbeat, limitMs, reportDir, file: currentFile() },
});
worker.unref();
const stamp = () => Atomics.store(beats, 0, Date.now() - started);
stamp();
setInterval(stamp, 100).unref();

beforeEach((context) => {
  worker.postMessage({ file: currentFile(), test: context.task.fullTestName ?? context.task.name });
});

afterEach(() => {
  worker.postMessage({ file: currentFile(), test: undefined });
});
