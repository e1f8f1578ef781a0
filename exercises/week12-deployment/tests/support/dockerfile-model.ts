/**
 * What a Dockerfile means, read with dockerfile-ast: its stages, what each one inherits from
 * the stage it is built FROM, and where its node_modules came from. The checks in
 * dockerfile.test.ts ask these questions, so that any layout that means the same passes.
 */
import path from "node:path";
import {
  DockerfileParser,
  type Arg,
  type Copy,
  type Env,
  type From,
  type Healthcheck,
  type Instruction,
  type JSONInstruction,
  type ModifiableInstruction,
} from "dockerfile-ast";

/** What npm left in a stage's node_modules. */
export type Modules = "none" | "with-dev" | "production";

export interface Stage {
  readonly index: number;
  /** The AS name, lower-cased. */
  readonly name: string | undefined;
  /** The FROM image with ARG defaults expanded, or the earlier stage it builds on. */
  readonly image: string;
  readonly parent: Stage | undefined;
  readonly instructions: readonly Instruction[];
  /** After the stage's last instruction, its parents' included. */
  readonly workdir: string;
  readonly modules: Modules;
  /** Where npm installed them (the workdir of that RUN). */
  readonly modulesDir: string | undefined;
  /** The stage and its parents, root first. */
  chain(): Stage[];
}

export interface ParsedDockerfile {
  readonly stages: readonly Stage[];
  readonly final: Stage | undefined;
  readonly comments: readonly string[];
  /** A stage named or numbered by FROM or COPY --from, if it is an earlier stage. */
  stageRef(ref: string, before: number): Stage | undefined;
}

export const keyword = (i: Instruction) => i.getKeyword().toUpperCase();
export const flag = (i: Instruction, name: string) =>
  "getFlags" in i
    ? ((i as ModifiableInstruction)
        .getFlags()
        .find((f) => f.getName().toLowerCase() === name)
        ?.getValue() ?? undefined)
    : undefined;

/** The arguments of an instruction, from JSON form when it is written that way. */
export function args(i: Instruction): string[] {
  if ("getJSONStrings" in i) {
    const json = (i as JSONInstruction).getJSONStrings();
    if (json.length > 0 && (i as JSONInstruction).getOpeningBracket()) return json.map((j) => j.getJSONValue());
  }
  return i.getExpandedArguments().map((a) => a.getValue());
}

export const isExecForm = (i: Instruction) =>
  "getOpeningBracket" in i &&
  (i as JSONInstruction).getOpeningBracket() !== null &&
  (i as JSONInstruction).getJSONStrings().length > 0;

/** The shell command of a RUN, split into simple commands at &&, ||, ; and |. */
export function runCommands(run: Instruction): string[][] {
  const text = isExecForm(run) ? args(run).join(" ") : (run.getArgumentsContent() ?? "");
  return text
    .split(/&&|\|\||;|\||\n/)
    .map((part) =>
      part
        .trim()
        .split(/\s+/)
        .filter((w) => w !== ""),
    )
    .filter((words) => words.length > 0);
}

/** `npm <verb>` of a simple command (after any VAR=value prefixes), with its words. */
export function npmVerb(words: string[]): { verb: string; words: string[]; env: string[] } | undefined {
  const env: string[] = [];
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) env.push(words[i++]!);
  if (words[i] !== "npm") return undefined;
  const rest = words.slice(i + 1);
  const verb = rest.find((w) => !w.startsWith("-"));
  return verb === undefined ? undefined : { verb, words: rest, env };
}

const omitsDev = (words: string[]) =>
  words.some(
    (w, i) =>
      w === "--omit=dev" ||
      (w === "--omit" && words[i + 1] === "dev") ||
      w === "--production" ||
      /^--only=prod(uction)?$/.test(w),
  );

function setsProductionEnv(i: Instruction): boolean {
  if (keyword(i) === "ENV")
    return (i as Env).getProperties().some((p) => p.getName() === "NODE_ENV" && p.getValue() === "production");
  if (keyword(i) === "ARG") {
    const property = (i as Arg).getProperty();
    return property?.getName() === "NODE_ENV" && property.getValue() === "production";
  }
  return false;
}

/** Parses the text; never throws (an empty text has no stages). */
export function parseDockerfile(text: string): ParsedDockerfile {
  const document = DockerfileParser.parse(text);
  const froms = document.getFROMs();
  const all = document.getInstructions();
  const stages: Stage[] = [];

  const stageRef = (ref: string, before: number): Stage | undefined => {
    const wanted = ref.toLowerCase();
    const earlier = stages.filter((s) => s.index < before);
    if (/^\d+$/.test(wanted)) return earlier[Number(wanted)];
    return earlier.find((s) => s.name === wanted);
  };

  froms.forEach((from: From, index) => {
    const start = from.getRange().start.line;
    const end = index + 1 < froms.length ? froms[index + 1]!.getRange().start.line : Number.POSITIVE_INFINITY;
    const instructions = all.filter((i) => i.getRange().start.line >= start && i.getRange().start.line < end);
    const image = from.getExpandedArguments()[0]?.getValue() ?? "";
    const parent = stageRef(image, index);
    let workdir = parent?.workdir ?? "/";
    let modules: Modules = parent?.modules ?? "none";
    let modulesDir = parent?.modulesDir;
    let productionEnv = parent ? parent.chain().some((s) => s.instructions.some(setsProductionEnv)) : false;
    for (const instruction of instructions) {
      const word = keyword(instruction);
      if (setsProductionEnv(instruction)) productionEnv = true;
      if (word === "WORKDIR") workdir = path.posix.resolve(workdir, args(instruction)[0] ?? ".");
      if (word === "RUN") {
        for (const command of runCommands(instruction)) {
          const npm = npmVerb(command);
          if (!npm) continue;
          if (npm.verb === "ci" || npm.verb === "install" || npm.verb === "i") {
            if (npm.words.includes("-g") || npm.words.includes("--global")) continue;
            const production = productionEnv || omitsDev(npm.words) || npm.env.includes("NODE_ENV=production");
            modules = production ? "production" : "with-dev";
            modulesDir = workdir;
          }
          if (npm.verb === "prune" && omitsDev(npm.words) && modules === "with-dev") modules = "production";
        }
      }
      if (word === "COPY") {
        const from = flag(instruction, "from");
        const source = from === undefined ? undefined : stageRef(from, index);
        if (source?.modulesDir !== undefined && source.modules !== "none") {
          const sources = args(instruction).slice(0, -1);
          const carried = sources.some((src) => {
            const absolute = path.posix.resolve(source.workdir, src);
            const dir = path.posix.join(source.modulesDir!, "node_modules");
            return absolute === "/" || absolute === dir || dir.startsWith(`${absolute}/`);
          });
          if (carried) {
            modules = source.modules;
            modulesDir = workdir;
          }
        }
      }
    }
    const name = from.getBuildStage()?.toLowerCase() ?? undefined;
    const stage: Stage = {
      index,
      name,
      image,
      parent,
      instructions,
      workdir,
      modules,
      modulesDir,
      chain: () => [...(parent?.chain() ?? []), stage],
    };
    stages.push(stage);
  });

  return {
    stages,
    final: stages[stages.length - 1],
    comments: document.getComments().map((c) => c.getContent()),
    stageRef,
  };
}

/** The last instruction with this keyword in the stage or, failing that, in the stages it builds on. */
export function effective<T extends Instruction>(stage: Stage, word: string): T | undefined {
  for (const s of stage.chain().reverse()) {
    const found = s.instructions.filter((i) => keyword(i) === word);
    if (found.length > 0) return found[found.length - 1] as T;
  }
  return undefined;
}

export const healthcheckSubcommand = (i: Healthcheck) => i.getSubcommand()?.getValue().toUpperCase();
export const copySources = (copy: Copy) => args(copy).slice(0, -1);
