import { numberSetting } from "../../vitest/settings";
import { parseCommandLine } from "../cli/parse";
import type { ArgSpec, FlagSpec, Parsed } from "../cli/spec";
import { CheckerError } from "../errors";
import type { GradeResults } from "./results";

export interface GradeOptions {
  weeks: string[];
  out: string;
  /** "12" (points) or "80%" (of the maximum). */
  minScore?: string;
  /** Hard bound on the whole run, in seconds. */
  timeLimitS: number;
  /** Grade without the sandbox even as root (a maintainer's debugging run). */
  noSandbox: boolean;
}

export const GRADE_ARGS: readonly ArgSpec[] = [{ name: "weeks", description: "weeks to grade (all by default)", variadic: true }];
export const GRADE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  out: { type: "string", value: "<dir>", description: "where the results go (default grade)" },
  "min-score": { type: "string", value: "<points|N%>", description: "exit 1 below this score" },
  "time-limit": { type: "string", value: "<seconds>", description: "bound of the whole run (default 1800)" },
  "no-sandbox": { type: "boolean", description: "as root, run learner code without the sandbox (debugging only)" },
};

/** Grade's options from its parsed command line, checked. */
export function gradeOptions(parsed: Parsed, env: NodeJS.ProcessEnv = process.env): GradeOptions {
  const { flags } = parsed;
  const text = (name: string) => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
  const limit = text("time-limit");
  const options: GradeOptions = {
    weeks: [...parsed.rest],
    out: text("out") ?? "grade",
    ...(text("min-score") !== undefined ? { minScore: text("min-score")! } : {}),
    timeLimitS: limit !== undefined ? Number(limit) : numberSetting("KATA_GRADE_TIME_LIMIT_S", env),
    noSandbox: flags["no-sandbox"] === true,
  };
  if (!Number.isFinite(options.timeLimitS) || options.timeLimitS <= 0) throw new CheckerError("E_USAGE", "--time-limit takes a positive number of seconds", "npm run grade -- --time-limit 1800");
  if (options.minScore !== undefined && !/^\d+(\.\d+)?%?$/.test(options.minScore)) {
    throw new CheckerError("E_USAGE", `--min-score takes points (12) or a percentage (80%), not "${options.minScore}"`, "npm run grade -- --min-score 80%");
  }
  return options;
}

/** Grade's options from raw words (npm's npm_config_* twins count too). */
export function parseGradeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): GradeOptions {
  const outcome = parseCommandLine({ name: "grade", args: GRADE_ARGS, flags: GRADE_FLAGS }, args, env);
  if (outcome.help) throw new CheckerError("E_USAGE", "--help is answered by the command line, not here");
  return gradeOptions(outcome.parsed, env);
}

/** Whether a score meets `--min-score`. */
export function meetsMinimum(results: Pick<GradeResults, "score" | "maxScore">, minScore: string | undefined): boolean {
  if (minScore === undefined) return true;
  if (minScore.endsWith("%")) return results.maxScore > 0 && (100 * results.score) / results.maxScore >= Number(minScore.slice(0, -1));
  return results.score >= Number(minScore);
}
