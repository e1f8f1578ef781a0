import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, expect } from "vitest";

/** How long the event loop may stay blocked before the fork is stopped. */
const limitMs = Number(process.env.KATA_BLOCK_LIMIT_MS ?? 5_000);

interface WatchdogState {
  worker: Worker;
  beats: Int32Array;
}

const key = Symbol.for("kata.watchdog");
const holder = globalThis as unknown as Record<symbol, WatchdogState | undefined>;

function currentFile(): string | undefined {
  return expect.getState().testPath ?? undefined;
}

function startWatchdog(): WatchdogState {
  const heartbeat = new SharedArrayBuffer(4);
  const beats = new Int32Array(heartbeat);
  const started = Date.now();
  const worker = new Worker(new URL("./watchdog-worker.mjs", import.meta.url), {
    workerData: { heartbeat, limitMs, reportDir: process.env.KATA_REPORT_DIR, file: currentFile() },
  });
  worker.unref();
  const stamp = () => Atomics.store(beats, 0, Date.now() - started);
  stamp();
  setInterval(stamp, 100).unref();
  return { worker, beats };
}

const watchdog = (holder[key] ??= startWatchdog());
// The fork may be reused for another file: say which one is loading now.
watchdog.worker.postMessage({ file: currentFile(), test: undefined });

beforeEach((context) => {
  watchdog.worker.postMessage({ file: currentFile(), test: context.task.fullTestName ?? context.task.name });
});

afterEach(() => {
  watchdog.worker.postMessage({ file: currentFile(), test: undefined });
});
