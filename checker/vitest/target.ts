import { setting } from "./settings.ts";

/**
 * Which code the course's tests run against. Tests import `../src/...`; the target decides
 * whether that means the learner's files (exercises/) or the reference (solutions/).
 */
export type KataTarget = "exercises" | "solution";

/** Reads the target from the environment; anything but "solution" means the learner's code. */
export function currentTarget(env: NodeJS.ProcessEnv = process.env): KataTarget {
  const value = setting("KATA_TARGET", env);
  return value === "solution" || value === "solutions" ? "solution" : "exercises";
}
