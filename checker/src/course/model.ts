import type { ServiceName } from "./schema";

export interface Kata {
  readonly id: string;
  readonly title: string;
  /** Learner-edited files, relative to the week folder (src/...). */
  readonly files: readonly string[];
  /** Test files, relative to the week folder (tests/...). */
  readonly tests: readonly string[];
  readonly services: readonly ServiceName[];
  readonly postgresSingleSession: boolean;
  readonly hints: readonly string[];
  readonly keptPassing: readonly string[];
  readonly points: number;
  /** Ids of katas of the same week whose code this kata's tests run too. */
  readonly buildsOn: readonly string[];
  /** The week's folder name, e.g. week05-rate-limiting. */
  readonly weekId: string;
  /** "week05-rate-limiting/token-bucket": unique in the course, used as the progress key. */
  readonly key: string;
}

export interface Week {
  /** Folder name, e.g. week05-rate-limiting. */
  readonly id: string;
  readonly number: number;
  /** The topic part of the folder name, e.g. rate-limiting. */
  readonly topic: string;
  readonly title: string;
  readonly summary: string;
  /** Absolute path of exercises/<id>. */
  readonly dir: string;
  /** Absolute path of solutions/<id>. */
  readonly solutionDir: string;
  readonly katas: readonly Kata[];
}

/** A week folder whose manifest could not be loaded; the rest of the course still works. */
export interface BrokenWeek {
  readonly folder: string;
  readonly message: string;
}

export interface Course {
  readonly root: string;
  readonly weeks: readonly Week[];
  readonly broken: readonly BrokenWeek[];
}
