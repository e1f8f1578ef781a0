import path from "node:path";
import type { Copy, Healthcheck, Instruction } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { dockerfile, dockerignore } from "../src/dockerfile";
import { dockerEngine, registerImageBuildTest } from "./support/docker-build";
import { isIgnored, parseDockerignore } from "./support/dockerignore";
import {
  args,
  copySources,
  effective,
  flag,
  healthcheckSubcommand,
  isExecForm,
  keyword,
  npmVerb,
  parseDockerfile,
  runCommands,
  type Stage,
} from "./support/dockerfile-model";

const parsed = parseDockerfile(dockerfile);
const ignore = parseDockerignore(dockerignore);
/** Fails with `why` and the list of problems, so the message names each offending line. */
function expectNone(problems: readonly string[], why: string): void {
  expect(problems, `${why}:\n  ${problems.join("\n  ")}\n`).toEqual([]);
}
const where = (i: Instruction) =>
  `line ${i.getRange().start.line + 1}: ${i.getKeyword()} ${i.getArgumentsContent() ?? ""}`.trim();

/** A developer's checkout: what a `docker build .` would send without a .dockerignore. */
const NEEDED = ["package.json", "package-lock.json", "tsconfig.json", "src/main.ts", "src/health/probes.ts"];
const SECRETS = [".env", ".env.production", "config/.env.local", ".npmrc"];
const JUNK = [".git/HEAD", ".git/config", "node_modules/zod/package.json", "dist/main.js", "coverage/lcov.info"];
const CHECKOUT = [...NEEDED, ...SECRETS, ...JUNK, "README.md"];
const MANIFESTS = new Set(["package.json", "package-lock.json", "npm-shrinkwrap.json"]);

/** The context files a COPY or ADD from the build context brings into its stage. */
function brought(copy: Instruction): string[] {
  const sources = copySources(copy as Copy);
  // "." (or "./", "/") is the whole context; anything else matches as a path or a glob.
  const everything = sources.some((source) => path.posix.normalize(`${source}/`).replace(/^\.?\/+/, "") === "");
  const patterns = sources.map((source) => parseDockerignore(source));
  return CHECKOUT.filter(
    (file) => !isIgnored(ignore, file) && (everything || patterns.some((p) => isIgnored(p, file))),
  );
}

const fromContext = (i: Instruction) =>
  (keyword(i) === "COPY" || keyword(i) === "ADD") && flag(i, "from") === undefined;
const allInstructions = () => parsed.stages.flatMap((s) => s.instructions);
const final = (): Stage => {
  expect(parsed.final, "the Dockerfile has no FROM: there is no image to check").toBeDefined();
  return parsed.final!;
};

describe("stages", () => {
  it("builds in stages, and the final stage copies what it runs from an earlier stage", () => {
    const last = final();
    const chain = new Set(last.chain());
    const fromEarlier = last.chain().flatMap((stage) =>
      stage.instructions.filter((i) => {
        const ref = keyword(i) === "COPY" ? flag(i, "from") : undefined;
        const source = ref === undefined ? undefined : parsed.stageRef(ref, stage.index);
        return source !== undefined && !chain.has(source);
      }),
    );
    expect(
      parsed.stages.length,
      "one stage ships the compiler, the dev dependencies and the npm cache too",
    ).toBeGreaterThanOrEqual(2);
    expect(
      fromEarlier.length,
      "the final stage must COPY --from=<build stage> what it runs, and nothing else",
    ).toBeGreaterThan(0);
  });
});

describe("base images", () => {
  it("pins every base image to a version tag or a digest, never latest or no tag", () => {
    const problems: string[] = [];
    for (const stage of parsed.stages) {
      if (stage.parent || stage.image.toLowerCase() === "scratch") continue;
      const [name = "", digest] = stage.image.split("@");
      if (digest !== undefined && /^sha256:[0-9a-f]{64}$/.test(digest)) continue;
      const slash = name.lastIndexOf("/");
      const colon = name.lastIndexOf(":");
      const tag = colon > slash ? name.slice(colon + 1) : undefined;
      if (tag === undefined) problems.push(`FROM ${stage.image}: no tag means latest`);
      else if (!/^v?\d/.test(tag))
        problems.push(`FROM ${stage.image}: "${tag}" moves; pin a version (node:22.12.0-bookworm-slim) or a digest`);
    }
    expect(parsed.stages.length, "no FROM at all").toBeGreaterThan(0);
    expectNone(problems, "a moving tag rebuilds a different image from the same commit: pin the base");
  });
});

describe("dependencies", () => {
  it("installs dependencies with npm ci, never npm install", () => {
    const npm = allInstructions()
      .filter((i) => keyword(i) === "RUN")
      .flatMap((run) => runCommands(run).map((words) => ({ run, npm: npmVerb(words) })))
      .filter((c) => c.npm !== undefined);
    const installs = npm.filter(
      (c) => ["install", "i", "add"].includes(c.npm!.verb) && !c.npm!.words.some((w) => w === "-g" || w === "--global"),
    );
    expectNone(
      installs.map((c) => where(c.run)),
      "npm install may update the lockfile: the image then differs from what CI tested",
    );
    expect(
      npm.some((c) => c.npm!.verb === "ci"),
      "npm ci installs exactly the lockfile, and fails if it is out of date",
    ).toBe(true);
  });

  it("leaves dev dependencies out of the final stage", () => {
    const last = final();
    expect(
      last.modules,
      "TypeScript, vitest and eslint have no business in production: install with --omit=dev, or prune before copying",
    ).not.toBe("with-dev");
    const installed = last
      .chain()
      .some((s) => s.instructions.some((i) => keyword(i) === "RUN" && runCommands(i).some((w) => npmVerb(w))));
    expect(
      last.modules !== "none" || !installed,
      "the final stage ran npm but its dependencies could not be traced",
    ).toBe(true);
  });

  it("copies only package.json and package-lock.json before npm ci, so a source change keeps the dependency layer", () => {
    const problems: string[] = [];
    let installs = 0;
    for (const stage of parsed.stages) {
      const before: Instruction[] = stage
        .chain()
        .slice(0, -1)
        .flatMap((s) => s.instructions);
      for (const instruction of stage.instructions) {
        const isInstall =
          keyword(instruction) === "RUN" &&
          runCommands(instruction).some((w) => ["ci", "install", "i"].includes(npmVerb(w)?.verb ?? ""));
        if (isInstall) {
          installs++;
          const copied = before
            .filter(fromContext)
            .flatMap(brought)
            .filter((file) => !MANIFESTS.has(file));
          if (copied.length > 0) problems.push(`${where(instruction)} comes after copying ${copied.join(", ")}`);
        }
        before.push(instruction);
      }
    }
    expect(installs, "no npm ci found").toBeGreaterThan(0);
    expectNone(
      problems,
      "every source change would reinstall every dependency: copy the manifests, npm ci, then the sources",
    );
  });
});

describe("runtime", () => {
  it("runs the final stage as a non-root user", () => {
    const user = effective(final(), "USER");
    const name = user ? (args(user)[0] ?? "").split(":")[0] : undefined;
    expect(name, "without USER the process runs as root: a breakout from node is then root on the node").toBeDefined();
    expect(["root", "0", ""].includes(name!), `USER ${name}: that is root`).toBe(false);
  });

  it("starts node in exec form, with no shell or npm in between, so SIGTERM reaches it", () => {
    const last = final();
    const entrypoint = effective(last, "ENTRYPOINT");
    const cmd = effective(last, "CMD");
    expect(entrypoint ?? cmd, "no CMD or ENTRYPOINT: the image would run whatever its base runs").toBeDefined();
    for (const i of [entrypoint, cmd]) {
      if (i)
        expect(
          isExecForm(i),
          `${where(i)}: shell form makes /bin/sh PID 1, and it does not pass SIGTERM on to node`,
        ).toBe(true);
    }
    const argv = [...(entrypoint ? args(entrypoint) : []), ...(cmd ? args(cmd) : [])];
    const wrappers = new Set(["tini", "dumb-init"]);
    let k = 0;
    while (k < argv.length && (wrappers.has(path.posix.basename(argv[k]!)) || argv[k]!.startsWith("-"))) k++;
    const program = path.posix.basename(argv[k] ?? "");
    expect(
      ["sh", "bash", "ash", "dash", "zsh"].includes(program),
      `${argv.join(" ")}: a shell in between swallows the signal`,
    ).toBe(false);
    expect(
      ["npm", "npx", "yarn", "pnpm"].includes(program),
      `${argv.join(" ")}: npm adds a process and does not reliably forward SIGTERM`,
    ).toBe(false);
  });

  it("has a HEALTHCHECK, or a comment naming the probe paths Kubernetes uses instead", () => {
    const healthcheck = effective<Healthcheck>(final(), "HEALTHCHECK");
    const checks = healthcheck !== undefined && healthcheckSubcommand(healthcheck) === "CMD";
    const documented = parsed.comments.some((c) => /\/(livez|readyz|startupz)\b/.test(c));
    expect(
      checks || documented,
      "say how the container's health is known: HEALTHCHECK CMD ..., or a comment naming /livez and /readyz",
    ).toBe(true);
  });
});

describe("no secrets in the image", () => {
  it("copies no secret file, and declares no ARG or ENV named like a secret", () => {
    const problems: string[] = [];
    for (const i of allInstructions()) {
      if (fromContext(i)) {
        const secrets = brought(i).filter((file) => SECRETS.includes(file));
        if (secrets.length > 0) problems.push(`${where(i)} copies ${secrets.join(", ")} into a layer`);
        for (const source of copySources(i as Copy)) {
          if (/(^|\/)\.env|\.npmrc$|\.pem$|\.key$|id_rsa/.test(source))
            problems.push(`${where(i)} names a secret file`);
        }
      }
      if (keyword(i) === "ARG" || keyword(i) === "ENV") {
        const names = i.getArguments().map((a) => a.getValue().split("=")[0]!);
        for (const n of names)
          if (/TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i.test(n))
            problems.push(`${where(i)}: ${n} stays in the image history`);
      }
    }
    expect(parsed.stages.length).toBeGreaterThan(0);
    expectNone(
      problems,
      "anyone who can pull the image can read its layers and history: mount secrets with RUN --mount=type=secret",
    );
  });

  it("keeps secrets, git history and local builds out of the build context, and what the build needs in it", () => {
    const leaked = [...SECRETS, ...JUNK].filter((file) => !isIgnored(ignore, file));
    const missing = NEEDED.filter((file) => isIgnored(ignore, file));
    expectNone(
      leaked,
      ".dockerignore patterns are anchored at the context root: .env does not match config/.env.local, **/.env* does",
    );
    expectNone(missing, "the build needs the manifests, tsconfig.json and src/");
  });
});

if (dockerEngine.available) registerImageBuildTest(dockerfile, dockerignore);
else process.stderr.write(`[dockerfile] the image build test did not run: ${dockerEngine.reason}\n`);
