// A small rule set that catches real bugs, not style (Prettier owns the layout): promises
// nobody awaits, values nobody uses, comparisons that cannot be what was meant.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/",
      "checker/dist/",
      "reports/",
      ".stryker-tmp/",
      "grade/",
      "grade-*/",
      "site/",
      "checker/tests/hostile/",
      "checker/tests/fixtures/",
    ],
  },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/await-thenable": "error",
      // Arguments stay: a skeleton's signature names what the learner will use.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { args: "none", caughtErrors: "none", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/no-unused-expressions": "error",
      "no-unreachable": "error",
      "no-self-compare": "error",
      "no-dupe-keys": "error",
      "no-fallthrough": "error",
      "no-cond-assign": ["error", "except-parens"],
      "no-unsafe-finally": "error",
    },
  },
);
