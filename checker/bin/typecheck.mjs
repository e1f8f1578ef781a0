#!/usr/bin/env node
// usage: typecheck.mjs <root> [files...]
// Type-checks the course through the compiler API and prints one JSON line per diagnostic.
// Unlike `tsc`, which stops at syntax errors and hides every type error elsewhere, this asks
// each file for both kinds, so one learner's broken file never masks another kata's errors.
import path from "node:path";
import ts from "typescript";

const root = path.resolve(process.argv[2] ?? ".");
const configPath = path.join(root, "tsconfig.json");
const read = ts.readConfigFile(configPath, ts.sys.readFile);
if (read.error) {
  console.log(JSON.stringify({ file: "tsconfig.json", line: 0, message: ts.flattenDiagnosticMessageText(read.error.messageText, " ") }));
  process.exit(0);
}
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
// Given files, check those (and what they import) instead of the whole course.
const only = process.argv.slice(3).map((file) => path.resolve(root, file));
const program = ts.createProgram({ rootNames: only.length > 0 ? only : parsed.fileNames, options: parsed.options });
const wanted = only.length > 0 ? new Set(only) : undefined;

function report(diagnostic) {
  const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
  if (!diagnostic.file) return console.log(JSON.stringify({ file: "tsconfig.json", line: 0, message }));
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  console.log(JSON.stringify({ file: path.relative(root, diagnostic.file.fileName), line: line + 1, message }));
}

for (const diagnostic of program.getOptionsDiagnostics()) report(diagnostic);
for (const file of program.getSourceFiles()) {
  if (file.fileName.includes("/node_modules/")) continue;
  if (wanted && !wanted.has(path.resolve(file.fileName))) continue;
  for (const diagnostic of program.getSyntacticDiagnostics(file)) report(diagnostic);
  for (const diagnostic of program.getSemanticDiagnostics(file)) report(diagnostic);
}
