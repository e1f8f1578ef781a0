// Runs in a worker thread for k8s-schema.ts: builds a TypeScript program over the interfaces
// kubernetes-models generates from the Kubernetes OpenAPI spec, and lists the fields of a
// rendered object that those interfaces do not have. Building the program takes seconds of CPU
// on a busy machine; here it does not block the test's event loop.
import { createRequire } from "node:module";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import ts from "typescript";

const models = workerData.models; // { [kind]: { module, type } }
let checker;
let roots;

function build() {
  const modelsDir = path.dirname(createRequire(import.meta.url).resolve("kubernetes-models/package.json"));
  const virtual = path.join(modelsDir, "__week12_k8s_types__.ts");
  const source = Object.entries(models)
    .map(([kind, m]) => `import type { ${m.type} } from "${m.module}";\nexport type ${kind} = ${m.type};`)
    .join("\n");
  const host = ts.createCompilerHost({});
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === virtual ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  host.fileExists = (name) => name === virtual || fileExists(name);
  const options = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es5.d.ts"],
    types: [],
    skipLibCheck: true,
  };
  const program = ts.createProgram({ rootNames: [virtual], options, host });
  checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(virtual));
  roots = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, checker.getDeclaredTypeOfSymbol(s)]));
}

function unknownFields(kind, object) {
  if (!checker) build();
  const root = roots.get(kind);
  if (!root) throw new Error(`no schema for kind ${kind}`);
  const unknown = [];
  const objectMembers = (type) => {
    const t = checker.getNonNullableType(type);
    if (t.isUnion()) return t.types.filter((m) => m.flags & ts.TypeFlags.Object);
    return t.flags & ts.TypeFlags.Object ? [t] : [];
  };
  const walk = (value, type, at) => {
    const candidates = objectMembers(type);
    if (candidates.length === 0) return;
    if (Array.isArray(value)) {
      const element = candidates
        .map((c) => checker.getIndexTypeOfType(c, ts.IndexKind.Number))
        .find((e) => e !== undefined);
      if (element) value.forEach((item, i) => walk(item, element, `${at}[${i}]`));
      return;
    }
    if (value === null || typeof value !== "object") return;
    const shape = candidates[0];
    const index = checker.getIndexTypeOfType(shape, ts.IndexKind.String);
    for (const [key, inner] of Object.entries(value)) {
      const where = at === "" ? key : `${at}.${key}`;
      if (index) {
        walk(inner, index, where);
        continue;
      }
      const property = checker.getPropertyOfType(shape, key);
      if (!property) unknown.push(where);
      else walk(inner, checker.getTypeOfSymbol(property), where);
    }
  };
  walk(object, root, "");
  return unknown;
}

parentPort.on("message", ({ id, kind, object }) => {
  try {
    parentPort.postMessage({ id, unknown: unknownFields(kind, object) });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
