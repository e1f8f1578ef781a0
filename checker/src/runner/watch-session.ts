import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { readGuardRecords } from "../../vitest/guard-record";
import { judge, type Owner } from "./judge";
import type { RunResult } from "./results";
import { Collector, prepareRun, type Target } from "./vitest-run";
import { dropSpareFork } from "../../vitest/kata-pool";
import type { Vitest } from "vitest/node";

// A vitest that stays up between saves: the config, the Vite server and its transforms are
// paid for once, and vitest's own watcher re-runs only the test files that import what changed.
// `npm run watch` runs on it; each run's results are judged like any other run.

export interface WatchSessionOptions {
  root: string;
  target: Target;
  /** The test files to run first, and the kata each belongs to; re-runs are among these. */
  owners: Map<string, Owner>;
  env?: Record<string, string>;
  /** After each run (the first, and one per change), with what it judged. */
  onRun(result: RunResult, files: readonly string[]): void | Promise<void>;
}

export interface WatchSession {
  close(): Promise<void>;
}

/**
 * How long a save may keep changing files before its re-run starts: an editor's save is a
 * burst of writes a few ms apart. Vitest's own watcher waits 100 ms, most of a re-run.
 */
const SAVE_SETTLE_MS = 20;

function clearRecords(dir: string): void {
  for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/** Starts vitest in watch mode over the given files; the environment it needs stays set until close. */
export async function startWatchSession(options: WatchSessionOptions): Promise<WatchSession> {
  const setup = prepareRun(options);
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries({ ...setup.env, KATA_WARM_FORK: "1" })) {
    saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  const collector = new Collector();
  let queue = Promise.resolve();
  collector.onRunEnd = (files) => {
    const ran = new Map([...options.owners].filter(([file]) => files.includes(file)));
    const modules = [...collector.modules.values()].filter((m) => ran.has(m.file));
    const result = judge({
      root: options.root,
      owners: ran,
      modules,
      unhandled: collector.unhandled,
      guards: readGuardRecords(setup.reportDir),
      canary: setup.canary,
    });
    // The next run starts clean: its records and outcomes are its own.
    clearRecords(setup.reportDir);
    collector.modules.clear();
    queue = queue.then(() => options.onRun(result, [...ran.keys()]));
  };
  const { createVitest } = await import("vitest/node");
  const signals = ["SIGINT", "SIGTERM"] as const;
  const ours = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const vitest = await createVitest(
    "test",
    {
      config: path.join(options.root, "vitest.config.ts"),
      root: options.root,
      project: ["course"],
      watch: true,
      reporters: [collector],
      passWithNoTests: true,
    },
    { logLevel: "silent" },
  );
  // Vitest's watch mode ends the process on Ctrl-C by itself; the watch command ends it in
  // order instead (the session closed, the services it started stopped).
  for (const signal of signals)
    for (const listener of process.listeners(signal))
      if (!ours.get(signal)!.has(listener)) process.off(signal, listener);
  await vitest.start([...options.owners.keys()]);
  const stopQuickRerun = rerunSoonAfterSaves(vitest);
  return {
    close: async () => {
      stopQuickRerun();
      await vitest.close();
      dropSpareFork();
      await queue;
      rmSync(setup.reportDir, { recursive: true, force: true });
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

/**
 * Starts the re-run of a save once its writes have settled, instead of after vitest's 100 ms
 * debounce. Vitest's watcher still decides which test files a change affects (it records them
 * as the change arrives); this takes them and runs them. Vitest's own delayed re-run then finds
 * nothing left to run. A save during one of these runs is left to vitest, which runs it next.
 */
function rerunSoonAfterSaves(vitest: Vitest): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const rerun = async () => {
    const changed = vitest.watcher.changedTests;
    if (running || changed.size === 0) return;
    const files = [...changed];
    changed.clear();
    running = true;
    try {
      await vitest.rerunTestSpecifications(files.flatMap((file) => vitest.getModuleSpecifications(file)));
    } catch {
      // Put back: vitest's own delayed re-run, if still to come, or the next save runs them.
      for (const file of files) changed.add(file);
    } finally {
      running = false;
    }
  };
  const onChange = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void rerun(), SAVE_SETTLE_MS);
  };
  vitest.vite.watcher.on("change", onChange);
  return () => {
    clearTimeout(timer);
    vitest.vite.watcher.off("change", onChange);
  };
}
