import { describe, expect, it } from "vitest";
import { parseWeek } from "../src/course/load";
import type { Course } from "../src/course/model";
import { closest, resolveKata, resolveWeek } from "../src/course/select";
import { CheckerError } from "../src/errors";

const kata = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: id,
  files: [`src/${id}.ts`],
  tests: [`tests/${id}.test.ts`],
  hints: ["nudge", "near-answer https://example.org"],
  ...extra,
});

function manifest(katas: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ title: "Rate Limiting", summary: "limits", katas, ...extra });
}

function errorOf(run: () => unknown): CheckerError {
  try {
    run();
  } catch (error) {
    if (error instanceof CheckerError) return error;
    throw error;
  }
  throw new Error("expected a CheckerError");
}

describe("week manifests", () => {
  it("parses a valid manifest into a typed week with defaults", () => {
    const week = parseWeek("/course", "week05-rate-limiting", manifest([kata("token-bucket")]));
    expect(week.number).toBe(5);
    expect(week.topic).toBe("rate-limiting");
    expect(week.katas[0]).toMatchObject({
      id: "token-bucket",
      services: [],
      points: 1,
      keptPassing: [],
      key: "week05-rate-limiting/token-bucket",
    });
  });

  it("names the file, the field and the expectation when a kata has one hint", () => {
    const error = errorOf(() =>
      parseWeek("/c", "week05-rate-limiting", manifest([kata("token-bucket", { hints: ["only one"] })])),
    );
    expect(error.code).toBe("E_MANIFEST");
    expect(error.message).toContain("exercises/week05-rate-limiting/week.json");
    expect(error.message).toContain("katas[0].hints");
    expect(error.message).toMatch(/at least two hints/);
  });

  it("rejects unknown fields, so a typo is not silently ignored", () => {
    const error = errorOf(() =>
      parseWeek("/c", "week05-rate-limiting", manifest([kata("token-bucket", { service: ["redis"] })])),
    );
    expect(error.message).toContain("katas[0]");
    expect(error.message).toMatch(/service/);
  });

  it("rejects an unknown service name", () => {
    const error = errorOf(() =>
      parseWeek("/c", "week05-rate-limiting", manifest([kata("a", { services: ["mongo"] })])),
    );
    expect(error.message).toContain("katas[0].services[0]");
  });

  it("rejects invalid JSON with the file name", () => {
    const error = errorOf(() => parseWeek("/c", "week05-rate-limiting", "{ not json"));
    expect(error.message).toMatch(/week05-rate-limiting\/week.json: not valid JSON/);
  });

  it("rejects duplicate kata ids and a test file claimed twice", () => {
    expect(errorOf(() => parseWeek("/c", "week05-x", manifest([kata("a"), kata("a")]))).message).toMatch(
      /"a" is used twice/,
    );
    const shared = manifest([kata("a"), kata("b", { tests: ["tests/a.test.ts"] })]);
    expect(errorOf(() => parseWeek("/c", "week05-x", shared)).message).toMatch(/already belongs to kata a/);
  });

  it("rejects paths that leave the week folder", () => {
    const error = errorOf(() => parseWeek("/c", "week05-x", manifest([kata("a", { files: ["src/../../etc.ts"] })])));
    expect(error.message).toContain("katas[0].files[0]");
  });

  it("rejects a folder that is not weekNN-topic", () => {
    expect(errorOf(() => parseWeek("/c", "week5-x", manifest([kata("a")]))).code).toBe("E_MANIFEST");
  });
});

describe("naming weeks and katas", () => {
  const week5 = parseWeek("/c", "week05-rate-limiting", manifest([kata("token-bucket"), kata("sliding-window")]));
  const week1 = parseWeek("/c", "week01-layered-architecture", manifest([kata("order-service")]));
  const course: Course = {
    root: "/c",
    weeks: [week1, week5],
    broken: [{ folder: "week07-databases", message: "week07: broken manifest" }],
  };

  it.each(["5", "05", "week5", "week05", "week05-rate-limiting", "rate-limiting", "WEEK5"])(
    "finds week 5 as %s",
    (input) => {
      expect(resolveWeek(course, input).id).toBe("week05-rate-limiting");
    },
  );

  it("names the valid weeks and the closest match for an unknown week", () => {
    const error = errorOf(() => resolveWeek(course, "rate-limitting"));
    expect(error.code).toBe("E_UNKNOWN_WEEK");
    expect(error.message).toContain("did you mean week5");
    expect(error.message).toContain("week1 (layered-architecture)");
    expect(error.next).toBe("npm run check week5");
  });

  it("reports a broken week's own manifest problem when it is named", () => {
    const error = errorOf(() => resolveWeek(course, "week7"));
    expect(error.code).toBe("E_MANIFEST");
    expect(error.message).toContain("broken manifest");
  });

  it("finds a kata by id or position and suggests the closest id", () => {
    expect(resolveKata(week5, "sliding-window").id).toBe("sliding-window");
    expect(resolveKata(week5, "2").id).toBe("sliding-window");
    const error = errorOf(() => resolveKata(week5, "token-buckt"));
    expect(error.code).toBe("E_UNKNOWN_KATA");
    expect(error.message).toContain("did you mean token-bucket");
    expect(error.message).toContain("token-bucket, sliding-window");
  });

  it("suggests nothing when nothing is close", () => {
    expect(closest("zzzzzzzz", ["token-bucket", "sliding-window"])).toBeUndefined();
  });
});
