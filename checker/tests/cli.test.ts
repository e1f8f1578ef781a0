import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands";
import { renderHelp } from "../src/cli/help";
import { parseCommandLine } from "../src/cli/parse";
import { GENERATED_DOCS } from "../src/commands/docs";
import { loadCourse } from "../src/course/load";
import { applyRegions, generatedRegions } from "../src/report/docs";
import { runCli } from "./support/run-cli";
import { repoRoot } from "./support/temp-course";

const spec = (name: string) => COMMANDS.find((c) => c.name === name)!;
const parse = (name: string, words: string[], env: NodeJS.ProcessEnv = {}) => parseCommandLine(spec(name), words, env);

describe("one parser for every declared command", () => {
  it("names arguments by their declaration and fills flags from the words", () => {
    expect(parse("check", ["week5", "token-bucket", "--all"])).toEqual({
      help: false,
      parsed: { args: { week: "week5", kata: "token-bucket" }, rest: [], flags: { all: true } },
    });
    expect(parse("grade", ["week1", "week2", "--out", "o", "--min-score=80%"])).toMatchObject({
      parsed: { rest: ["week1", "week2"], flags: { out: "o", "min-score": "80%" } },
    });
  });

  it("refuses what a command does not take, naming the command and its usage", () => {
    expect(() => parse("check", ["week5", "token-bucket", "extra"])).toThrow(/check: unexpected extra/);
    expect(() => parse("hint", ["week5", "--bogus"])).toThrow(/hint: Unknown option '--bogus'/);
    expect(() => parse("reset", ["week5"])).toThrow(/reset: name a kata of that week/);
    expect(() => parse("merge-grades", ["a", "--out"])).toThrow(
      /merge-grades: Option '--out <value>' argument missing/,
    );
    try {
      parse("compare", []);
    } catch (error) {
      expect((error as { next?: string }).next).toMatch(
        /npm run compare --help .*usage: compare <week> <kata> \[--yes\]/,
      );
    }
  });

  it("takes npm's twins of the flags it swallowed before --", () => {
    expect(parse("grade", [], { npm_config_min_score: "80%", npm_config_time_limit: "60" })).toMatchObject({
      parsed: { flags: { "min-score": "80%", "time-limit": "60" } },
    });
    expect(parse("compare", ["week1", "x"], { npm_config_yes: "true" })).toMatchObject({
      parsed: { flags: { yes: true } },
    });
    expect(parse("grade", [], { npm_config_sandbox: "false" })).toMatchObject({
      parsed: { flags: { "no-sandbox": true } },
    });
  });

  it.each(COMMANDS.map((c) => [c.name]))("answers --help for %s with its usage, arguments and an example", (name) => {
    expect(parse(name, ["--help"])).toEqual({ help: true });
    const help = renderHelp(spec(name));
    expect(help).toContain(`usage: ${name}`);
    expect(help).toContain(spec(name).examples[0]!);
  });

  it("prints a command's help from the command line, and a one-line error for a mistake", async () => {
    const help = await runCli(repoRoot, ["check", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^npm run check: run your code/);
    const wrong = await runCli(repoRoot, ["hint", "week1", "--bogus"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("the documents that restate what the code defines", () => {
  it.each(GENERATED_DOCS.map((d) => [d]))("%s is current (npm run course -- docs)", (name) => {
    const text = readFileSync(path.join(repoRoot, name), "utf8");
    expect(
      applyRegions(text, generatedRegions(loadCourse(repoRoot))),
      `${name} is stale: run npm run course -- docs`,
    ).toBe(text);
  });

  it("lists every command in the README, and every setting in CONTRIBUTING", () => {
    const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
    for (const command of COMMANDS)
      expect(readme).toContain(`\`npm run ${command.viaCourse ? "course -- " : ""}${command.name}`);
    const contributing = readFileSync(path.join(repoRoot, "CONTRIBUTING.md"), "utf8");
    expect(contributing).toContain("`KATA_FILE_BOUND_S`");
  });
});
