import { invocation, synopsis, type CommandSpec } from "./spec";

/** `npm run check --help`. */
export function renderHelp(spec: CommandSpec): string {
  const lines = [`${invocation(spec)}: ${spec.summary}`, "", `usage: ${synopsis(spec)}`];
  if (spec.args.length > 0) {
    lines.push("", "arguments:");
    for (const arg of spec.args)
      lines.push(`  ${arg.name.padEnd(14)} ${arg.description}${arg.required ? "" : " (optional)"}`);
  }
  const flags = Object.entries(spec.flags);
  if (flags.length > 0) {
    lines.push("", "options:");
    for (const [name, flag] of flags) {
      const label = `${flag.short ? `-${flag.short}, ` : ""}--${name}${flag.type === "string" ? ` ${flag.value ?? "<value>"}` : ""}`;
      lines.push(`  ${label.padEnd(24)} ${flag.description}`);
    }
  }
  if (spec.examples.length > 0) lines.push("", "examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

/** The list `npm run course help` prints. */
export function renderUsage(specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((s) => synopsis(s).length)) + 2;
  return [
    "usage: npm run <command> [args]   (npm run course -- <command> for the others)",
    "",
    ...specs.map((s) => `  ${synopsis(s).padEnd(width)}${s.summary}`),
    "",
    "every command answers --help",
  ].join("\n");
}

/** The README's command table for an audience, as Markdown: generated, so it never drifts from the declarations. */
export function renderCommandTable(specs: readonly CommandSpec[], audience: CommandSpec["audience"]): string {
  const rows = specs
    .filter((s) => s.audience === audience)
    // A | inside a table cell ends it, code span or not: escape it.
    .map(
      (s) => `| \`${`${invocation(s)}${synopsis(s).slice(s.name.length)}`.replace(/\|/g, "\\|")}\` | ${s.summary} |`,
    );
  return ["| command | what it does |", "|---|---|", ...rows].join("\n");
}
