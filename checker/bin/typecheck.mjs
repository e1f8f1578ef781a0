#!/usr/bin/env node
// usage: typecheck.mjs <root> [files...]
// Type-checks the course through the compiler API and prints one JSON line per diagnostic.
// Unlike `tsc`, which stops at syntax errors and hides every type error elsewhere, this asks
// each file for both kinds, so one learner's broken file never masks another kata's errors.
// It also prints, for every file under exercises/, the local files it imports
// ({"file", "imports"}), so a kata answers for the type errors of the helpers it uses, and a
// diagnostic for `@ts-nocheck` in a learner's file, which would switch the checker off.
import path from "node:path";
import ts from "typescript";

const root = path.resolve(process.argv[2] ?? ".");
const configPath = path.join(root, "tsconfig.json");
const read = ts.readConfigFile(configPath, ts.sys.readFile);
if (read.error) {
  console.log(
    JSON.stringify({
      file: "tsconfig.json",
      line: 0,
      message: ts.flattenDiagnosticMessageText(read.error.messageText, " "),
    }),
  );
  process.exit(0);
}
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
// Given files, check those (and what they import) instead of the whole course.
const only = process.argv.slice(3).map((file) => path.resolve(root, file));
const program = ts.createProgram({ rootNames: only.length > 0 ? only : parsed.fileNames, options: parsed.options });
const wanted = only.length > 0 ? new Set(only) : undefined;
const relative = (file) => path.relative(root, file);

function report(diagnostic) {
  const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
  if (!diagnostic.file) return console.log(JSON.stringify({ file: "tsconfig.json", line: 0, message }));
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  console.log(JSON.stringify({ file: relative(diagnostic.file.fileName), line: line + 1, message }));
}

/** Lines of a directive comment (`// @ts-ignore`, `/* @ts-nocheck *\/`), 1-based. */
function directiveLines(text, name) {
  const lines = [];
  const pattern = new RegExp(`(?://|/\\*)\\s*@${name}\\b`, "g");
  for (const match of text.matchAll(pattern)) lines.push(text.slice(0, match.index).split("\n").length);
  return lines;
}

/** A learner's file that turns type checking off fails the type-check rule, naming the other suppressions too. */
function reportSuppressions(file) {
  const text = file.getFullText();
  const nocheck = directiveLines(text, "ts-nocheck");
  if (nocheck.length === 0) return;
  const others = ["ts-ignore", "ts-expect-error"]
    .map((name) => [name, directiveLines(text, name)])
    .filter(([, lines]) => lines.length > 0)
    .map(([name, lines]) => `@${name} on line${lines.length > 1 ? "s" : ""} ${lines.join(", ")}`);
  const also = others.length > 0 ? ` (it also has ${others.join(" and ")})` : "";
  const message = `@ts-nocheck turns the type checker off for this file; a kata's files must type-check, so remove it${also}`;
  console.log(JSON.stringify({ file: relative(file.fileName), line: nocheck[0], message }));
}

function localImports(file) {
  const imports = [];
  for (const imported of ts.preProcessFile(file.getFullText(), true, true).importedFiles) {
    const resolved = ts.resolveModuleName(imported.fileName, file.fileName, parsed.options, ts.sys).resolvedModule;
    if (resolved && !resolved.isExternalLibraryImport && !resolved.resolvedFileName.includes("/node_modules/"))
      imports.push(relative(resolved.resolvedFileName));
  }
  return imports;
}

for (const diagnostic of program.getOptionsDiagnostics()) report(diagnostic);
for (const file of program.getSourceFiles()) {
  if (file.fileName.includes("/node_modules/")) continue;
  const rel = relative(file.fileName);
  if (rel.startsWith("exercises/")) {
    console.log(JSON.stringify({ file: rel, imports: localImports(file) }));
    reportSuppressions(file);
  }
  // Given files, their diagnostics and those of the learner's files they reach.
  if (wanted && !wanted.has(path.resolve(file.fileName)) && !rel.startsWith("exercises/")) continue;
  for (const diagnostic of program.getSyntacticDiagnostics(file)) report(diagnostic);
  for (const diagnostic of program.getSemanticDiagnostics(file)) report(diagnostic);
}
