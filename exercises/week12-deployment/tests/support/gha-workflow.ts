/**
 * A GitHub Actions workflow, simulated: which events trigger it, which jobs and steps run for
 * an event (their `if:`s evaluated as the runner does, jobs skipped when a job they need was
 * skipped), and where secrets are referenced. The release-workflow tests ask these questions
 * of the parsed YAML, so any layout with the same meaning passes.
 */
import { parse } from "yaml";
import { condition, interpolate, type Context, type StatusFunctions, type Value } from "./gha-expressions";

export type Obj = Record<string, any>;

export interface GitHubEvent {
  readonly label: string;
  readonly name: "push" | "pull_request" | "pull_request_target";
  /** The branch pushed to, the tag pushed, or a pull request's base branch. */
  readonly target: { readonly kind: "branch" | "tag"; readonly name: string };
  readonly github: { [key: string]: Value };
}

const repository = "acme/orders";
const common = {
  repository,
  repository_owner: "acme",
  workflow: "release",
  run_id: "4242",
  run_number: "17",
  actor: "octocat",
  sha: "0d9f1e3b",
};

const forkPr = (name: "pull_request" | "pull_request_target"): GitHubEvent => ({
  label: `a ${name} from a fork`,
  name,
  target: { kind: "branch", name: "main" },
  github: {
    ...common,
    event_name: name,
    ref: name === "pull_request" ? "refs/pull/7/merge" : "refs/heads/main",
    ref_name: name === "pull_request" ? "7/merge" : "main",
    ref_type: "branch",
    head_ref: "feature/faster",
    base_ref: "main",
    event: {
      action: "synchronize",
      pull_request: {
        number: 7,
        head: { ref: "feature/faster", repo: { fork: true, full_name: "mallory/orders" } },
        base: { ref: "main" },
      },
    },
  },
});

const push = (kind: "branch" | "tag", name: string): GitHubEvent => ({
  label: kind === "tag" ? `a push of tag ${name}` : `a push to ${name}`,
  name: "push",
  target: { kind, name },
  github: {
    ...common,
    event_name: "push",
    ref: `refs/${kind === "tag" ? "tags" : "heads"}/${name}`,
    ref_name: name,
    ref_type: kind,
    head_ref: "",
    base_ref: "",
    event: { ref: `refs/${kind === "tag" ? "tags" : "heads"}/${name}`, repository: { full_name: repository } },
  },
});

export const EVENTS = {
  pullRequest: forkPr("pull_request"),
  pullRequestTarget: forkPr("pull_request_target"),
  pushMain: push("branch", "main"),
  pushTag: push("tag", "v1.4.0"),
  pushNextTag: push("tag", "v1.5.0"),
};

export function parseWorkflow(text: string): Obj {
  const parsed: unknown = parse(text, { maxAliasCount: 1_000 });
  return parsed !== null && typeof parsed === "object" ? (parsed as Obj) : {};
}

export const list = (value: unknown): string[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
export const jobsOf = (workflow: Obj): Record<string, Obj> =>
  workflow.jobs && typeof workflow.jobs === "object" ? workflow.jobs : {};
export const stepsOf = (job: Obj | undefined): Obj[] => (Array.isArray(job?.steps) ? job.steps : []);

/** GitHub's filter patterns: * (not /), ** (anything), ? (the previous character, optional), + and []. */
function filterMatch(pattern: string, value: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        re += ".*";
        i++;
      } else re += "[^/]*";
    } else if (ch === "?" || ch === "+") re += ch;
    else if (ch === "[" || ch === "]") re += ch;
    else re += ch.replace(/[.(){}|$^\\]/g, "\\$&");
  }
  return new RegExp(`${re}$`).test(value);
}

/** A filter list with ! negations: the last pattern that matches decides. */
function listMatches(patterns: string[], value: string): boolean {
  let included = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (filterMatch(pattern.slice(1), value)) included = false;
    } else if (filterMatch(pattern, value)) included = true;
  }
  return included;
}

/** The events of `on:`, each with its filters (null when it has none). */
export function triggersOf(workflow: Obj): Record<string, Obj | null> {
  const on = workflow.on ?? workflow.true; // YAML 1.1 readers turn `on` into true; yaml 2 does not
  if (typeof on === "string") return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
  return on && typeof on === "object" ? on : {};
}

/** Whether `event` starts the workflow at all. */
export function triggers(workflow: Obj, event: GitHubEvent): boolean {
  const on = triggersOf(workflow);
  if (!(event.name in on)) return false;
  const filters = on[event.name] ?? {};
  if (event.name !== "push") {
    const types = list(filters.types);
    if (types.length > 0 && !types.includes("synchronize") && !types.includes("opened")) return false;
    if (filters.branches) return listMatches(list(filters.branches), event.target.name);
    if (filters["branches-ignore"]) return !listMatches(list(filters["branches-ignore"]), event.target.name);
    return true;
  }
  const branchFilters = filters.branches !== undefined || filters["branches-ignore"] !== undefined;
  const tagFilters = filters.tags !== undefined || filters["tags-ignore"] !== undefined;
  const [mine, ignore, others] =
    event.target.kind === "branch"
      ? ["branches", "branches-ignore", tagFilters]
      : ["tags", "tags-ignore", branchFilters];
  const ownFilters = filters[mine] !== undefined || filters[ignore] !== undefined;
  // Filters for only the other kind of ref mean: not this kind.
  if (!ownFilters) return !others;
  if (filters[mine] !== undefined) return listMatches(list(filters[mine]), event.target.name);
  return !listMatches(list(filters[ignore]), event.target.name);
}

function contextFor(workflow: Obj, event: GitHubEvent, job?: Obj, step?: Obj): Context {
  const env = { ...(workflow.env ?? {}), ...(job?.env ?? {}), ...(step?.env ?? {}) };
  const needs = Object.fromEntries(list(job?.needs).map((n) => [n, { result: "success", outputs: {} }]));
  return {
    github: event.github,
    env,
    vars: {},
    secrets: {},
    inputs: {},
    needs,
    matrix: {},
    steps: {},
    job: { status: "success" },
    runner: { os: "Linux", arch: "X64", temp: "/tmp" },
  } as Context;
}

const status = (success: boolean): StatusFunctions => ({
  success: () => success,
  always: () => true,
  failure: () => false,
  cancelled: () => false,
});

/** The jobs that run for `event`, in no particular order. */
export function jobsRun(workflow: Obj, event: GitHubEvent): Set<string> {
  const jobs = jobsOf(workflow);
  const memo = new Map<string, boolean>();
  const runs = (id: string, seen: Set<string>): boolean => {
    if (memo.has(id)) return memo.get(id)!;
    const job = jobs[id];
    if (!job || seen.has(id)) return false;
    const needsRan = list(job.needs).every((need) => runs(need, new Set([...seen, id])));
    const result = triggers(workflow, event) && condition(job.if, contextFor(workflow, event, job), status(needsRan));
    memo.set(id, result);
    return result;
  };
  return new Set(Object.keys(jobs).filter((id) => runs(id, new Set())));
}

/** The steps of a job that run for `event`, when the job itself runs. */
export function stepsRun(workflow: Obj, jobId: string, event: GitHubEvent): Obj[] {
  const job = jobsOf(workflow)[jobId];
  if (!job || !jobsRun(workflow, event).has(jobId)) return [];
  return stepsOf(job).filter((step) => condition(step.if, contextFor(workflow, event, job, step), status(true)));
}

/** Evaluates a field (with ${{ }} parts) for a step of a job. */
export function valueFor(workflow: Obj, event: GitHubEvent, text: unknown, job?: Obj, step?: Obj): Value {
  return interpolate(text, contextFor(workflow, event, job, step), status(true));
}

/** Every job a job waits for, directly or not. */
export function transitiveNeeds(workflow: Obj, jobId: string): Set<string> {
  const jobs = jobsOf(workflow);
  const found = new Set<string>();
  const visit = (id: string) => {
    for (const need of list(jobs[id]?.needs)) {
      if (!found.has(need)) {
        found.add(need);
        visit(need);
      }
    }
  };
  visit(jobId);
  return found;
}

const SECRET = /\bsecrets\s*(?:\.\s*(?!GITHUB_TOKEN\b)[A-Za-z_][\w-]*|\[)/;

/** Paths inside `value` whose text references a secret other than GITHUB_TOKEN. */
export function secretReferences(value: unknown, at: string): string[] {
  if (typeof value === "string") return SECRET.test(value) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretReferences(v, `${at}[${i}]`));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => secretReferences(v, `${at}.${k}`));
  return [];
}

export const runText = (step: Obj): string => (typeof step.run === "string" ? step.run : "");
export const usesOf = (step: Obj): string => (typeof step.uses === "string" ? step.uses : "");
export const actionName = (uses: string): string => uses.split("@")[0]!.toLowerCase();
