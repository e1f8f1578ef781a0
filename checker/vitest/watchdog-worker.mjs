// Runs in a helper thread of a test fork. The fork's main thread stamps a heartbeat every
// 100 ms; a synchronous loop in learner code stops the stamps, and vitest itself can never
// interrupt it (testTimeout is a timer, and timers need the loop). This thread still runs,
// so it records which test was running and ends the fork: a failed test instead of a hang.
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";

const { heartbeat, limitMs, reportDir, file } = workerData;
const beats = new Int32Array(heartbeat);
const started = Date.now();
let current = { file, test: undefined };

parentPort.on("message", (message) => {
  current = { file: message.file ?? current.file, test: message.test };
});

const check = setInterval(() => {
  const last = Atomics.load(beats, 0);
  const blockedMs = Date.now() - started - last;
  // Loading a test file may legitimately hold the loop for a while (a big dependency such
  // as the TypeScript compiler, on a slow or busy machine): it gets three times the limit.
  if (blockedMs < (current.test ? limitMs : 3 * limitMs)) return;
  clearInterval(check);
  const where = current.test ? `test "${current.test}"` : "loading the test file (module top level)";
  const shown = current.file ? path.relative(process.cwd(), current.file) : "an unknown file";
  const message = `your code blocked the event loop for ${blockedMs} ms while ${where} in ${shown}; the test process was stopped (a synchronous loop that never yields?)`;
  // The shape of GuardRecord in guard-record.ts.
  const record = {
    kind: "blocked-event-loop",
    file: current.file ?? null,
    test: current.test ?? null,
    blockedMs,
    message,
  };
  try {
    if (reportDir) {
      mkdirSync(reportDir, { recursive: true });
      appendFileSync(path.join(reportDir, `watchdog-${process.pid}.jsonl`), JSON.stringify(record) + "\n");
    }
  } finally {
    process.stderr.write(`\n[kata watchdog] ${message}\n`);
    process.kill(process.pid, "SIGKILL");
  }
}, 100);
