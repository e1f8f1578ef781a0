import type { CommandContext } from "../commands/context";

/** A word on the command line, in order. */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** Takes every remaining word (the last argument only). */
  readonly variadic?: boolean;
}

export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly description: string;
  readonly short?: string;
  /** Shown in help as `--flag <value>`. */
  readonly value?: string;
}

/** What a command received, parsed: its arguments by name and its flags. */
export interface Parsed {
  readonly args: Readonly<Record<string, string | undefined>>;
  /** The words of a variadic argument. */
  readonly rest: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

/** One command, declared once: the parser, `--help`, the usage list and the README table all read this. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Who types it: the README's tables group commands by this. */
  readonly audience: "learner" | "teacher" | "maintainer";
  /** How it is typed: `npm run <name>` when package.json has the script, else `npm run course -- <name>`. */
  readonly viaCourse?: boolean;
  readonly args: readonly ArgSpec[];
  readonly flags: Readonly<Record<string, FlagSpec>>;
  readonly examples: readonly string[];
  run(ctx: CommandContext, parsed: Parsed): Promise<number>;
}

/** How a learner types the command. */
export function invocation(spec: Pick<CommandSpec, "name" | "viaCourse">): string {
  return spec.viaCourse ? `npm run course -- ${spec.name}` : `npm run ${spec.name}`;
}

/** `check [week] [kata] [--all]`. */
export function synopsis(spec: Pick<CommandSpec, "name" | "args" | "flags">): string {
  const words = spec.args.map((a) => {
    const name = a.variadic ? `${a.name}...` : a.name;
    return a.required ? `<${name}>` : `[${name}]`;
  });
  const flags = Object.entries(spec.flags).map(([name, f]) =>
    f.type === "string" ? `[--${name} ${f.value ?? "<value>"}]` : `[--${name}]`,
  );
  return [spec.name, ...words, ...flags].join(" ");
}
