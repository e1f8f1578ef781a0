import { numberSetting } from "../../vitest/settings";
import type { GradeResults } from "./results";
import { CheckerError } from "../errors";

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

/** Reads grade's arguments; npm keeps `--flags` for itself unless after `--`, so its npm_config_* twins count too. */
export function parseGradeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): GradeOptions {
  const options: GradeOptions = {
    weeks: [],
    out: env.npm_config_out || "grade",
    ...(env.npm_config_min_score ? { minScore: env.npm_config_min_score } : {}),
    timeLimitS: Number(env.npm_config_time_limit || numberSetting("KATA_GRADE_TIME_LIMIT_S", env)),
    noSandbox: env.npm_config_sandbox === "false",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") ? arg.split("=", 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new CheckerError("E_USAGE", `${flag} needs a value`, "npm run grade -- --min-score 80%");
      return v;
    };
    if (flag === "--out") options.out = value();
    else if (flag === "--min-score") options.minScore = value();
    else if (flag === "--time-limit") options.timeLimitS = Number(value());
    else if (flag === "--no-sandbox") options.noSandbox = true;
    else if (arg.startsWith("-")) throw new CheckerError("E_USAGE", `unknown option ${arg}`, "npm run grade -- --out grade --min-score 80% --time-limit 1800");
    else options.weeks.push(arg);
  }
  if (!Number.isFinite(options.timeLimitS) || options.timeLimitS <= 0) throw new CheckerError("E_USAGE", "--time-limit takes a positive number of seconds", "npm run grade -- --time-limit 1800");
  if (options.minScore !== undefined && !/^\d+(\.\d+)?%?$/.test(options.minScore)) {
    throw new CheckerError("E_USAGE", `--min-score takes points (12) or a percentage (80%), not "${options.minScore}"`, "npm run grade -- --min-score 80%");
  }
  return options;
}

/** Whether a score meets `--min-score`. */
export function meetsMinimum(results: Pick<GradeResults, "score" | "maxScore">, minScore: string | undefined): boolean {
  if (minScore === undefined) return true;
  if (minScore.endsWith("%")) return results.maxScore > 0 && (100 * results.score) / results.maxScore >= Number(minScore.slice(0, -1));
  return results.score >= Number(minScore);
}
