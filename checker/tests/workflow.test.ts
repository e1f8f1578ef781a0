import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { databaseUrl } from "../fixtures/postgres";
import { redisUrl } from "../fixtures/redis";
import { loadCourse } from "../src/course/load";
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

const scripts = (
  JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const workflows = ["grade.yml", "grade-matrix.yml"].map((name) => ({
  name,
  doc: parse(readFileSync(path.join(repoRoot, ".github", "workflows", name), "utf8")) as {
    on: unknown;
    jobs: Record<string, Job>;
  },
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
      expect(job.steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version-file"]).toBe(
        "package.json",
      );
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

describe("what the workflows trust", () => {
  const RESTORED = [
    "checker",
    "vitest.config.ts",
    "tsconfig.json",
    "course.lock.json",
    "package.json",
    "package-lock.json",
    "'exercises/*/tests'",
    "'exercises/*/week.json'",
  ];
  const jobsOf = (name: string) => Object.entries(workflows.find((w) => w.name === name)!.doc.jobs);

  it.each(workflows.flatMap((w) => Object.keys(w.doc.jobs).map((job) => [w.name, job] as const)))(
    "%s job %s restores the course's checker, tests and dependencies before it installs them",
    (name, jobName) => {
      const job = workflows.find((w) => w.name === name)!.doc.jobs[jobName]!;
      const restore = job.steps.findIndex((s) => s.run?.includes("git checkout FETCH_HEAD --"));
      const install = job.steps.findIndex((s) => s.run === "npm ci");
      expect(restore, "a restore step").toBeGreaterThanOrEqual(0);
      expect(restore, "restored before npm ci, so a modified lockfile or vitest is never installed").toBeLessThan(
        install,
      );
      for (const item of RESTORED) expect(job.steps[restore]!.run).toContain(item);
    },
  );

  it.each(workflows.map((w) => [w.name] as const))(
    "%s grades as root, after letting the sandbox's users read the course",
    (name) => {
      for (const [, job] of jobsOf(name).filter(([, j]) => j.steps.some((s) => s.run?.includes("npm run grade")))) {
        const grade = job.steps.findIndex((s) => s.run?.includes("npm run grade"));
        const readable = job.steps.findIndex((s) => s.run?.includes("chmod -R a+rX"));
        expect(job.steps[grade]!.run).toMatch(/^sudo .*npm run grade/);
        expect(job.steps[grade]!.run, "the service URLs survive sudo").toContain(
          "--preserve-env=REDIS_URL,DATABASE_URL,AMQP_URL",
        );
        expect(readable).toBeGreaterThanOrEqual(0);
        expect(readable).toBeLessThan(grade);
      }
    },
  );

  it("starts RabbitMQ where the checker looks for it", () => {
    for (const [, job] of workflows.flatMap((w) => Object.entries(w.doc.jobs)).filter(([, j]) => j.services)) {
      expect(job.services!.rabbitmq!.ports).toContain(`${new URL(job.env!.AMQP_URL!).port}:5672`);
    }
  });

  it("grades every week of the course in the matrix", () => {
    const matrix = (workflows[1]!.doc.jobs.week as unknown as { strategy: { matrix: { week: string[] } } }).strategy
      .matrix.week;
    const weeks = loadCourse(repoRoot).weeks.map((w) => `week${w.number}`);
    expect(matrix).toEqual(weeks);
  });
});
