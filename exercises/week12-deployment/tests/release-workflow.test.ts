import { describe, expect, it } from "vitest";
import { workflow as text } from "../src/release-workflow";
import { toText, truthy } from "./support/gha-expressions";
import {
  EVENTS,
  actionName,
  jobsOf,
  jobsRun,
  list,
  parseWorkflow,
  runText,
  secretReferences,
  stepsOf,
  stepsRun,
  transitiveNeeds,
  triggers,
  triggersOf,
  usesOf,
  valueFor,
  type GitHubEvent,
  type Obj,
} from "./support/gha-workflow";

const workflow = parseWorkflow(text);
const jobs = jobsOf(workflow);
const REQUIRED = ["lint", "test", "build", "deploy"];

/** Fails with `why` and the list of problems, so the message names each offending job and step. */
function expectNone(problems: readonly string[], why: string): void {
  expect(problems, `${why}:\n  ${problems.join("\n  ")}\n`).toEqual([]);
}
const stepName = (step: Obj, i: number) => step.name ?? step.uses ?? `step ${i + 1}: ${runText(step).split("\n")[0]}`;
const allSteps = () =>
  Object.entries(jobs).flatMap(([id, job]) =>
    stepsOf(job).map((step, i) => ({ id, job, step, where: `${id} > ${stepName(step, i)}` })),
  );
const requireJobs = () => {
  const missing = REQUIRED.filter((id) => !jobs[id]);
  expect(missing, `the workflow needs jobs with the ids ${REQUIRED.join(", ")}`).toEqual([]);
};
const runsAnywhere = (job: Obj | undefined, pattern: RegExp) =>
  stepsOf(job).some((step) => pattern.test(runText(step)));

describe("triggers", () => {
  it("runs for pull requests to main, pushes to main and version tags, and never on pull_request_target", () => {
    expect(
      Object.keys(triggersOf(workflow)),
      "pull_request_target runs a fork's pull request with your secrets and write token",
    ).not.toContain("pull_request_target");
    for (const event of [EVENTS.pullRequest, EVENTS.pushMain, EVENTS.pushTag]) {
      expect(triggers(workflow, event), `the workflow must start for ${event.label}`).toBe(true);
    }
  });
});

describe("jobs and their order", () => {
  it("has lint, test, build and deploy jobs doing their work, and runs them in dependency order", () => {
    requireJobs();
    const unknown = Object.entries(jobs).flatMap(([id, job]) =>
      list(job.needs)
        .filter((n) => !jobs[n])
        .map((n) => `${id} needs ${n}`),
    );
    expectNone(unknown, "a job needs a job that does not exist");
    expect(
      [...transitiveNeeds(workflow, "build")].sort(),
      "build waits for lint and test: no image from code that fails them",
    ).toEqual(expect.arrayContaining(["lint", "test"]));
    expect(transitiveNeeds(workflow, "deploy").has("build"), "deploy waits for the image it deploys").toBe(true);
    expect(transitiveNeeds(workflow, "deploy").has("deploy"), "a cycle in needs").toBe(false);
    expect(runsAnywhere(jobs.lint, /\bnpm run lint\b|\beslint\b/), "lint runs the linter (npm run lint)").toBe(true);
    expect(runsAnywhere(jobs.test, /\bnpm (run )?test\b|\bnpm t\b|\bvitest\b/), "test runs the tests (npm test)").toBe(
      true,
    );
    const builds = stepsOf(jobs.build).some(
      (s) => actionName(usesOf(s)) === "docker/build-push-action" || /\bdocker (buildx )?build\b/.test(runText(s)),
    );
    expect(builds, "build builds the image (docker/build-push-action or docker build)").toBe(true);
  });

  it("lints, tests and builds every pull request and push to main, and deploys only a tag", () => {
    requireJobs();
    const expected: [GitHubEvent, string[]][] = [
      [EVENTS.pullRequest, ["build", "lint", "test"]],
      [EVENTS.pushMain, ["build", "lint", "test"]],
      [EVENTS.pushTag, ["build", "deploy", "lint", "test"]],
    ];
    for (const [event, wanted] of expected) {
      const ran = [...jobsRun(workflow, event)].filter((id) => REQUIRED.includes(id)).sort();
      expect(ran, `the jobs that run for ${event.label}`).toEqual(wanted);
    }
  });

  it("tests against service containers with pinned images and health checks", () => {
    requireJobs();
    const services: Record<string, Obj> = jobs.test.services ?? {};
    expect(
      Object.keys(services).length,
      "test the way production runs: against a real database in a service container",
    ).toBeGreaterThan(0);
    for (const [name, service] of Object.entries(services)) {
      const image = String(service.image ?? "");
      const tag = image.includes("@sha256:") ? "digest" : /:([^/:]+)$/.exec(image)?.[1];
      expect(
        tag !== undefined && (tag === "digest" || /^v?\d/.test(tag)),
        `service ${name} image ${image}: pin a version, not latest`,
      ).toBe(true);
      expect(
        String(service.options ?? ""),
        `service ${name}: without --health-cmd the tests start before the database accepts connections`,
      ).toMatch(/--health-cmd/);
    }
  });
});

/** The steps (job > step) that push an image for `event`. */
function pushingSteps(event: GitHubEvent): string[] {
  const found: string[] = [];
  for (const [id, job] of Object.entries(jobs)) {
    stepsRun(workflow, id, event).forEach((step, i) => {
      const run = runText(step);
      let pushes = /\bdocker (image )?push\b|\bdocker buildx build\b[^\n]*--push\b/.test(run);
      if (actionName(usesOf(step)) === "docker/build-push-action") {
        const value = valueFor(workflow, event, step.with?.push, job, step);
        pushes = typeof value === "string" ? value.trim().toLowerCase() === "true" : truthy(value);
      }
      if (pushes) found.push(`${id} > ${stepName(step, i)}`);
    });
  }
  return found;
}

describe("releases", () => {
  it("pushes the image only for a version tag", () => {
    expectNone(
      pushingSteps(EVENTS.pullRequest),
      "a pull request's image must not reach the registry: anyone can open one",
    );
    expectNone(pushingSteps(EVENTS.pushMain), "a push to main builds the image but only a release tag publishes it");
    expect(pushingSteps(EVENTS.pushTag).length, "a release tag pushes the image").toBeGreaterThan(0);
  });

  it("deploys through the protected production environment, one release at a time, never cancelled half-way", () => {
    requireJobs();
    const deploy = jobs.deploy;
    const environment = typeof deploy.environment === "string" ? deploy.environment : deploy.environment?.name;
    expect(
      environment,
      "environment: production is where the required reviewers (the manual approval) and its secrets live",
    ).toBe("production");
    const concurrency = deploy.concurrency ?? workflow.concurrency;
    expect(concurrency, "without a concurrency group, two releases can roll out at once").toBeDefined();
    const groupFor = (event: GitHubEvent) =>
      toText(valueFor(workflow, event, typeof concurrency === "string" ? concurrency : concurrency?.group, deploy));
    expect(groupFor(EVENTS.pushTag), "the group needs a name").not.toBe("");
    expect(
      groupFor(EVENTS.pushNextTag),
      "v1.4.0 and v1.5.0 must share one group, so their rollouts queue instead of overlapping",
    ).toBe(groupFor(EVENTS.pushTag));
    const cancels =
      typeof concurrency === "object"
        ? truthy(valueFor(workflow, EVENTS.pushTag, concurrency["cancel-in-progress"] ?? false, deploy))
        : false;
    expect(cancels, "cancelling a rollout half-way leaves production between two versions").toBe(false);
  });
});

describe("secrets", () => {
  it("references no secret in any job or step that runs for a pull request", () => {
    const problems: string[] = [];
    let ranForPullRequests = 0;
    for (const event of [EVENTS.pullRequest, EVENTS.pullRequestTarget]) {
      for (const id of jobsRun(workflow, event)) {
        ranForPullRequests++;
        const job = jobs[id]!;
        problems.push(
          ...secretReferences(
            { env: workflow.env, jobEnv: job.env, with: job.with, services: job.services, container: job.container },
            `${id} (${event.name})`,
          ),
        );
        if (job.secrets !== undefined) problems.push(`${id} (${event.name}): passes secrets to a reusable workflow`);
        stepsRun(workflow, id, event).forEach((step, i) =>
          problems.push(...secretReferences(step, `${id} > ${stepName(step, i)} (${event.name})`)),
        );
      }
    }
    expect(ranForPullRequests, "the checks must run for pull requests too").toBeGreaterThan(0);
    expectNone(
      problems,
      "a pull request's code runs in these jobs: a secret they can read is a secret every fork can steal",
    );
  });

  it("passes secrets to scripts through env, and never echoes one or traces near one", () => {
    const problems: string[] = [];
    for (const { job, step, where } of allSteps()) {
      const run = runText(step);
      if (run === "") continue;
      if (/\$\{\{[^}]*\bsecrets\b/.test(run))
        problems.push(`${where}: \${{ secrets... }} is pasted into the script (and its logs); pass it through env:`);
      const env = { ...(workflow.env ?? {}), ...(job.env ?? {}), ...(step.env ?? {}) };
      const secretVars = Object.entries(env)
        .filter(([, v]) => /\bsecrets\b/.test(String(v)))
        .map(([k]) => k);
      if (secretVars.length === 0) continue;
      for (const line of run.split("\n")) {
        if (/\bset\s+(-[a-z]*x|-o\s+xtrace)\b/.test(line))
          problems.push(`${where}: set -x prints every command, secrets expanded`);
        if (/^\s*(printenv|env)\s*$/.test(line)) problems.push(`${where}: prints the environment, secrets included`);
        for (const name of secretVars) {
          const at = line.search(new RegExp(`\\$\\{?${name}\\b`));
          if (at < 0 || !/\b(echo|printf)\b/.test(line.slice(0, at))) continue;
          if (!/[|>]/.test(line.slice(at))) problems.push(`${where}: prints $${name} to the log`);
        }
      }
    }
    expectNone(problems, "a secret in a log is a leaked secret");
  });
});

describe("supply chain", () => {
  it("pins every action to a full commit SHA", () => {
    const uses = [
      ...Object.entries(jobs)
        .filter(([, job]) => typeof job.uses === "string")
        .map(([id, job]) => ({ where: id, uses: job.uses as string })),
      ...allSteps()
        .filter(({ step }) => usesOf(step) !== "")
        .map(({ where, step }) => ({ where, uses: usesOf(step) })),
    ];
    expect(uses.length, "no action used at all").toBeGreaterThan(0);
    const unpinned = uses.filter(
      ({ uses }) =>
        !uses.startsWith("./") &&
        !/^docker:\/\/.+@sha256:[0-9a-f]{64}$/.test(uses) &&
        !/^[^@\s]+@[0-9a-f]{40}$/.test(uses),
    );
    expectNone(
      unpinned.map(({ where, uses }) => `${where}: ${uses}`),
      "a tag can be moved to other code (tj-actions/changed-files, 2025): pin the commit",
    );
  });

  it("installs with npm ci and caches npm's downloads in every job that does", () => {
    const problems: string[] = [];
    const installs: string[] = [];
    let installers = 0;
    for (const [id, job] of Object.entries(jobs)) {
      const steps = stepsOf(job);
      const first = steps.findIndex((s) => /\bnpm (ci|install|i)\b/.test(runText(s)));
      if (first < 0) continue;
      installers++;
      if (steps.some((s) => /\bnpm (install|i)\b(?![^\n]*(-g|--global)\b)/.test(runText(s))))
        installs.push(`${id} runs npm install`);
      const cached = steps.slice(0, first).some((s) => {
        const action = actionName(usesOf(s));
        if (action === "actions/setup-node") return String(s.with?.cache ?? "") === "npm";
        if (action === "actions/cache")
          return (
            /\.npm\b/.test(String(s.with?.path ?? "")) &&
            /hashFiles\([^)]*package-lock\.json/.test(String(s.with?.key ?? ""))
          );
        return false;
      });
      if (!cached)
        problems.push(
          `${id}: no npm cache before npm ci (setup-node with cache: npm, or actions/cache on ~/.npm keyed on the lockfile)`,
        );
    }
    expect(installers, "no job installs the dependencies").toBeGreaterThan(0);
    expectNone(
      installs,
      "npm install may rewrite the lockfile, so CI would test other versions than it locked: use npm ci",
    );
    expectNone(problems, "every job downloads every dependency again");
  });

  it("makes the GITHUB_TOKEN read-only unless a job asks for more", () => {
    const permissions = workflow.permissions;
    expect(
      permissions,
      "without permissions:, the token may write to the repository (the default on older repositories)",
    ).toBeDefined();
    const writes =
      permissions === "write-all"
        ? ["write-all"]
        : typeof permissions === "object" && permissions !== null
          ? Object.entries(permissions)
              .filter(([, level]) => level === "write")
              .map(([scope]) => scope)
          : [];
    expect(
      permissions === "read-all" || (typeof permissions === "object" && permissions !== null),
      `permissions: ${JSON.stringify(permissions)}`,
    ).toBe(true);
    expectNone(writes, "grant write scopes on the one job that needs them, not the workflow");
  });
});
