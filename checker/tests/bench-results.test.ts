import { describe, expect, it } from "vitest";
import { mergeBenchCases, parseStoredCases, type StoredCase } from "../src/report/bench-results";

const sample = { median: 1, min: 1, max: 1, values: [1] };

function benchCase(week: string, name: string, measuredAt = "2026-01-01T00:00:00.000Z"): StoredCase {
  return {
    week,
    measuredAt,
    file: `exercises/${week}/bench/x.bench.ts`,
    name,
    unit: "ops/s",
    better: "higher",
    ours: sample,
    yardstick: { ...sample, library: "lib" },
    ratio: 1,
  };
}

const weeks = ["week 2", "week 3", "week 5"];
const names = (cases: readonly StoredCase[]) => cases.map((c) => `${c.week}: ${c.name}`);

describe("merging a bench run into results.json", () => {
  it("keeps the weeks that were not benched and replaces those that were", () => {
    const stored = [benchCase("week 2", "old a"), benchCase("week 3", "kept"), benchCase("week 2", "old b")];
    const fresh = [benchCase("week 2", "new", "2026-02-02T00:00:00.000Z")];
    const merged = mergeBenchCases(stored, fresh, new Set(["week 2"]), weeks);
    expect(names(merged)).toEqual(["week 2: new", "week 3: kept"]);
    expect(merged[0]!.measuredAt).toBe("2026-02-02T00:00:00.000Z");
    expect(merged[1]!.measuredAt).toBe("2026-01-01T00:00:00.000Z");
  });

  it("drops the rows of a benched week that measured nothing this time (its cases were removed)", () => {
    const stored = [benchCase("week 5", "gone"), benchCase("week 3", "kept")];
    expect(names(mergeBenchCases(stored, [], new Set(["week 5"]), weeks))).toEqual(["week 3: kept"]);
  });

  it("drops weeks no longer in the course and orders rows as the course does", () => {
    const stored = [benchCase("week 5", "five"), benchCase("week 9", "removed week"), benchCase("week 3", "three")];
    const fresh = [benchCase("week 2", "two")];
    expect(names(mergeBenchCases(stored, fresh, new Set(["week 2"]), weeks))).toEqual([
      "week 2: two",
      "week 3: three",
      "week 5: five",
    ]);
  });
});

describe("reading an earlier results.json", () => {
  it("reads the cases it wrote", () => {
    const cases = [benchCase("week 3", "kept")];
    expect(parseStoredCases(JSON.stringify({ node: "v20", cases }))).toEqual(cases);
  });

  it.each([
    ["no file", undefined],
    ["an empty file", ""],
    ["half a file", '{"cases": [{"week": "week 3"'],
    ["no cases", '{"node": "v20"}'],
    ["cases that are not a list", '{"cases": {"week": "week 3"}}'],
  ])("starts afresh from %s", (_what, text) => {
    expect(parseStoredCases(text)).toEqual([]);
  });

  it("skips entries without a week or a ratio", () => {
    const good = benchCase("week 3", "kept");
    const text = JSON.stringify({
      cases: [good, null, { name: "no week", ratio: 1 }, { week: "week 3", name: "no ratio" }],
    });
    expect(parseStoredCases(text)).toEqual([good]);
  });
});
