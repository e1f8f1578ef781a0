// Mutation testing of one week's reference solutions with that week's suite.
// `npm run mutate weekN` sets KATA_WEEK_FILTER (and KATA_TARGET=solution), so the one vitest
// config runs only that week, against the solutions Stryker mutates.
const week = process.env.KATA_WEEK_FILTER;
// `npm run mutate week5 token-bucket` narrows it to one kata's files (and the config to its tests).
const files = process.env.KATA_MUTATE_FILES?.split(",").filter(Boolean);
const report = process.env.KATA_REPORT_NAME ?? week ?? "all";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.config.ts" },
  mutate: files ?? [week ? `solutions/${week}/src/**/*.ts` : "solutions/*/src/**/*.ts"],
  coverageAnalysis: "perTest",
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  thresholds: { high: 90, low: 80, break: null },
  // One temp dir per week, so two weeks can be mutated at once without one run's cleanup
  // deleting the other's sandbox; every run ignores the others' sandboxes and reports.
  tempDirName: `.stryker-tmp/${report}`,
  ignorePatterns: ["/.stryker-tmp", "/reports", "/grade", "/grade-*", "/.backup"],
  cleanTempDir: "always",
};
