import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { afterEach, expect, it } from "vitest";
import { descendants, processTreeRss } from "../vitest/process-tree";

// The pool caps the memory of a test fork and everything it starts; what it reads must
// count a grandchild's memory, not just the fork's.

const MB = 2 ** 20;
const started: { kill(signal: NodeJS.Signals): boolean }[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

/** A child that starts a grandchild holding `mb` MB, and says so once the memory is resident. */
async function childWithHungryGrandchild(mb: number) {
  const grandchild = `const kept = Buffer.alloc(${mb} * 2 ** 20, 1); process.stdout.write("ready"); setInterval(() => kept, 1000);`;
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const c = require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: ["ignore", "pipe", "inherit"] });
       c.stdout.on("data", (d) => process.stdout.write(String(c.pid) + " " + d));
       process.on("SIGTERM", () => { c.kill("SIGKILL"); process.exit(0); });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  started.push(child);
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  const grandchildPid = Number(String(chunk).split(" ")[0]);
  started.push({ kill: (signal) => (process.kill(grandchildPid, signal), true) });
  return { pid: child.pid!, grandchildPid };
}

it.skipIf(!existsSync("/proc"))("counts the memory of a fork's grandchildren", async () => {
  const { pid, grandchildPid } = await childWithHungryGrandchild(200);
  expect(descendants(pid)).toContain(grandchildPid);
  // The child itself holds some 40 MB: only the grandchild's buffer takes the tree past 200 MB.
  expect(processTreeRss(pid)).toBeGreaterThan(200 * MB);
});

it.skipIf(!existsSync("/proc"))("counts a process without children as itself alone", () => {
  const own = processTreeRss(process.pid);
  expect(own).toBeGreaterThan(10 * MB);
  expect(processTreeRss(2 ** 22 + 12345)).toBe(0);
});
