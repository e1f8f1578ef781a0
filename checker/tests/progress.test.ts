import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROGRESS_VERSION } from "../src/progress/format";
import { PROGRESS_FILE, readProgress, updateProgress } from "../src/progress/store";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kata-progress-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = () => path.join(dir, PROGRESS_FILE);

describe("the progress file", () => {
  it("starts empty when there is no file", () => {
    expect(readProgress(dir)).toEqual({ progress: { version: PROGRESS_VERSION, katas: {} } });
  });

  it("round-trips what was written and leaves no temporary file behind", async () => {
    await updateProgress(dir, (p) => {
      p.katas["week01/a"] = {
        status: "passed",
        firstPassedAt: "2026-01-01T00:00:00.000Z",
        lastRunAt: null,
        runs: 1,
        hintsShown: 2,
      };
    });
    expect(readProgress(dir).progress.katas["week01/a"]).toMatchObject({ status: "passed", runs: 1, hintsShown: 2 });
    expect(readdirSync(dir).sort()).toEqual([PROGRESS_FILE]);
  });

  it("backs up a corrupt file, says so in one line, and starts afresh", () => {
    writeFileSync(file(), "{ this is not json");
    const loaded = readProgress(dir);
    expect(loaded.progress.katas).toEqual({});
    expect(loaded.notice).toMatch(/unreadable; kept it as \.progress\.json\.corrupt-/);
    const backups = readdirSync(dir).filter((f) => f.includes("corrupt"));
    expect(backups).toHaveLength(1);
    expect(readFileSync(path.join(dir, backups[0]!), "utf8")).toBe("{ this is not json");
  });

  it("treats valid JSON of an unknown shape as corrupt, never as progress", () => {
    writeFileSync(file(), JSON.stringify({ version: 99, katas: "nope" }));
    expect(readProgress(dir).notice).toMatch(/unreadable/);
  });

  it("migrates the version 1 format, keeping statuses and hint counts", () => {
    writeFileSync(
      file(),
      JSON.stringify({ version: 1, katas: { "week01/a": "passed", "week01/b": "failed" }, hints: { "week01/b": 2 } }),
    );
    const loaded = readProgress(dir);
    expect(loaded.notice).toMatch(/migrated/);
    expect(loaded.progress.version).toBe(PROGRESS_VERSION);
    expect(loaded.progress.katas["week01/a"]).toMatchObject({ status: "passed", hintsShown: 0 });
    expect(loaded.progress.katas["week01/b"]).toMatchObject({ status: "failed", hintsShown: 2 });
  });

  it("loses no update when several processes update it at once", async () => {
    const store = path.resolve("checker/src/progress/store.ts");
    const writers = 6;
    const script = (i: number) => `
      import { updateProgress } from ${JSON.stringify(store)};
      for (let n = 0; n < 5; n++) {
        await updateProgress(${JSON.stringify(dir)}, (p) => {
          const e = (p.katas["w/k${i}"] ??= { status: "failed", firstPassedAt: null, lastRunAt: null, runs: 0, hintsShown: 0 });
          e.runs += 1;
        });
      }`;
    await Promise.all(
      Array.from(
        { length: writers },
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(i)], {
              stdio: ["ignore", "ignore", "pipe"],
            });
            let err = "";
            child.stderr.on("data", (c) => (err += c));
            child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(err))));
          }),
      ),
    );
    const katas = readProgress(dir).progress.katas;
    for (let i = 0; i < writers; i++) expect(katas[`w/k${i}`]?.runs, `writer ${i} kept all its updates`).toBe(5);
  });

  it("survives a kill -9 in the middle of writing: the file is the old or the new one, never half", async () => {
    await updateProgress(dir, (p) => {
      p.katas["w/a"] = { status: "passed", firstPassedAt: null, lastRunAt: null, runs: 1, hintsShown: 0 };
    });
    const store = path.resolve("checker/src/progress/store.ts");
    const script = `
      import { writeProgress } from ${JSON.stringify(store)};
      const katas = {};
      for (let i = 0; i < 20000; i++) katas["w/k" + i] = { status: "failed", firstPassedAt: null, lastRunAt: null, runs: i, hintsShown: 0 };
      process.stdout.write("ready\\n");
      for (;;) writeProgress(${JSON.stringify(dir)}, { version: ${PROGRESS_VERSION}, katas });`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const loaded = readProgress(dir);
    expect(loaded.notice, "a kill mid-write must never leave a corrupt file").toBeUndefined();
    const count = Object.keys(loaded.progress.katas).length;
    expect(count === 1 || count === 20000).toBe(true);
  });
});
