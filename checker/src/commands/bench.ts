import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BenchRecord } from "../../fixtures/bench";
import type { Week } from "../course/model";
import { resolveWeek, weekLabel } from "../course/select";
import { renderBenchChart, type ChartRow } from "../report/bench-chart";
import { mergeBenchCases, parseStoredCases, type StoredCase } from "../report/bench-results";
import { renderTable } from "../report/table";
import type { Owner } from "../runner/judge";
import { resolveServicesFor } from "../runner/run-katas";
import { runTests } from "../runner/vitest-run";
import { serviceEnv } from "../services";
import type { CommandContext } from "./context";

/** Where the results go: committed, so the README's chart shows the last measured run. */
export const BENCH_DIR = "docs/bench";

function benchFiles(week: Week): string[] {
  const dir = path.join(week.dir, "bench");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bench.ts"))
    .sort()
    .map((f) => path.join(dir, f));
}

function readRecords(file: string): BenchRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as BenchRecord);
}

function formatValue(value: number, unit: string): string {
  const rounded = value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toPrecision(3);
  return `${rounded} ${unit}`;
}

function spread(s: { median: number; min: number; max: number }): string {
  return `±${Math.round((100 * (s.max - s.min)) / 2 / s.median)}%`;
}

/**
 * `npm run bench [week...]`: every bench file, against the reference solutions, in one run;
 * a table on the terminal, and results.json and ratios.svg in docs/bench.
 */
export async function benchCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const weeks = args.length > 0 ? args.map((a) => resolveWeek(ctx.course, a)) : [...ctx.course.weeks];
  const owners = new Map<string, Owner>();
  for (const week of weeks) {
    const files = benchFiles(week);
    if (files.length === 0) ctx.out(ctx.style.dim(`${weekLabel(week)} has no benchmarks`));
    for (const file of files) owners.set(file, { week: week.id, kata: "bench" });
  }
  if (owners.size === 0) return 0;
  const withBench = weeks.filter((w) => benchFiles(w).length > 0);
  const services = await resolveServicesFor(
    withBench.flatMap((w) => w.katas),
    (line) => ctx.err(ctx.style.dim(line)),
  );
  const scratch = mkdtempSync(path.join(os.tmpdir(), "kata-bench-"));
  const out = path.join(scratch, "records.jsonl");
  try {
    ctx.err(ctx.style.dim(`bench: ${owners.size} files, one at a time (this takes minutes)…`));
    const run = await runTests({
      root: ctx.course.root,
      target: "solution",
      owners,
      // One file at a time: two benchmarks sharing two cores would measure each other.
      oneFileAtATime: true,
      env: { ...serviceEnv(services), KATA_BENCH: "1", KATA_BENCH_OUT: out, KATA_FILE_BOUND_S: "900" },
    });
    const failed = run.tests.filter((t) => t.status === "failed");
    for (const test of failed)
      ctx.err(ctx.style.bad(`bench failed: ${test.file} › ${test.name}: ${test.message ?? ""}`));
    const weekOf = (file: string) => ctx.course.weeks.find((w) => file.startsWith(w.dir + path.sep))!;
    const rows: ChartRow[] = readRecords(out).map((record) => ({ week: weekLabel(weekOf(record.file)), record }));
    ctx.out(
      renderTable(
        ["week", "case", "ours", "yardstick", "theirs", "ratio"],
        rows.map(({ week, record: r }) => [
          week,
          r.name,
          `${formatValue(r.ours.median, r.unit)} ${spread(r.ours)}`,
          r.yardstick.library,
          `${formatValue(r.yardstick.median, r.unit)} ${spread(r.yardstick)}`,
          `${r.ratio.toFixed(2)}×`,
        ]),
      ),
    );
    ctx.out(
      ctx.style.dim(
        "ratio: ours relative to the yardstick; above 1× ours is better. medians of interleaved rounds, ± half their range",
      ),
    );
    const dir = path.join(ctx.course.root, BENCH_DIR);
    mkdirSync(dir, { recursive: true });
    const measuredAt = new Date().toISOString();
    const fresh: StoredCase[] = rows.map(({ week, record }) => ({
      week,
      measuredAt,
      ...record,
      file: path.relative(ctx.course.root, record.file),
    }));
    const resultsFile = path.join(dir, "results.json");
    const cases = mergeBenchCases(
      parseStoredCases(existsSync(resultsFile) ? readFileSync(resultsFile, "utf8") : undefined),
      fresh,
      new Set(withBench.map((w) => weekLabel(w))),
      ctx.course.weeks.map((w) => weekLabel(w)),
    );
    const results = { node: process.version, cases };
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    const chartRows: ChartRow[] = cases.map(({ week, measuredAt: _at, ...record }) => ({ week, record }));
    writeFileSync(path.join(dir, "ratios.svg"), renderBenchChart(chartRows));
    ctx.out(`bench: ${BENCH_DIR}/results.json and ${BENCH_DIR}/ratios.svg`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await services.stopAll();
  }
}
