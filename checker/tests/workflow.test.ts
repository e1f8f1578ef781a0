import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { databaseUrl } from "../fixtures/postgres";
import { redisUrl } from "../fixtures/redis";
import { repoRoot } from "./support/temp-course";

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  services?: Record<string, { image: string; ports?: string[]; env?: Record<string, string>; options?: string }>;
  env?: Record<string, string>;
  steps: Step[];
}

const scripts = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const workflows = ["grade.yml", "grade-matrix.yml"].map((name) => ({
  name,
  doc: parse(readFileSync(path.join(repoRoot, ".github", "workflows", name), "utf8")) as { on: unknown; jobs: Record<string, Job> },
}));

function npmScriptsUsed(job: Job): string[] {
  return job.steps.flatMap((s) => [...(s.run ?? "").matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!));
}

describe.each(workflows)("the $name workflow", ({ doc }) => {
  const jobs = Object.values(doc.jobs);

  it("runs only npm scripts that package.json defines", () => {
    const used = jobs.flatMap(npmScriptsUsed);
    expect(used.length).toBeGreaterThan(0);
    for (const script of used) expect(Object.keys(scripts), `npm run ${script}`).toContain(script);
  });

  it("installs from the lockfile and takes Node from package.json's engines", () => {
    for (const job of jobs) {
      expect(job.steps.some((s) => s.run === "npm ci")).toBe(true);
      expect(job.steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version-file"]).toBe("package.json");
    }
  });

  it("starts Redis and Postgres with health checks where the checker looks for them", () => {
    const grading = jobs.filter((j) => j.services);
    expect(grading.length).toBeGreaterThan(0);
    for (const job of grading) {
      const redis = job.services!.redis!;
      const postgres = job.services!.postgres!;
      expect(redis.image).toMatch(/^redis:/);
      expect(postgres.image).toMatch(/^postgres:/);
      expect(redis.options).toContain("--health-cmd");
      expect(postgres.options).toContain("--health-cmd");
      const redisPort = new URL(redisUrl({ REDIS_URL: job.env!.REDIS_URL })).port;
      const pg = new URL(databaseUrl({ DATABASE_URL: job.env!.DATABASE_URL }));
      expect(redis.ports).toContain(`${redisPort}:6379`);
      expect(postgres.ports).toContain(`${pg.port}:5432`);
      expect(postgres.env!.POSTGRES_DB).toBe(pg.pathname.slice(1));
      expect(postgres.env!.POSTGRES_USER).toBe(pg.username);
      expect(postgres.env!.POSTGRES_HOST_AUTH_METHOD).toBe("trust");
    }
  });

  it("uses the same defaults as a learner's machine when the URL variables are absent", () => {
    for (const job of jobs.filter((j) => j.env)) {
      expect(redisUrl({ REDIS_URL: job.env!.REDIS_URL })).toBe(job.env!.REDIS_URL);
      expect(new URL(redisUrl({})).port).toBe(new URL(job.env!.REDIS_URL!).port);
      expect(new URL(databaseUrl({})).port).toBe(new URL(job.env!.DATABASE_URL!).port);
    }
  });
});

describe("the grade workflow's outputs", () => {
  const grade = workflows[0]!.doc.jobs.grade!;
  it("appends the summary to the job summary and uploads the results, even when grading fails", () => {
    const summary = grade.steps.find((s) => s.run?.includes("GITHUB_STEP_SUMMARY"));
    expect(summary?.run).toContain("grade/summary.md");
    const upload = grade.steps.find((s) => s.uses?.startsWith("actions/upload-artifact"));
    expect(upload?.with?.path).toBe("grade/");
  });

  it("merges a matrix of weeks with the checker's own merge command", () => {
    const merge = workflows[1]!.doc.jobs.merge!;
    expect(merge.steps.some((s) => s.run?.includes("npm run course -- merge-grades"))).toBe(true);
  });
});
