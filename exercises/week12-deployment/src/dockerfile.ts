// Kata: dockerfile
//
// The image is what actually runs in production, so its Dockerfile deserves the same review
// as code. Below is the Dockerfile most projects start with. It builds and it runs, and it
// gets nearly everything wrong: a 1 GB image that changes under you (latest), compilers and
// dev dependencies in production, root, a shell as PID 1 that swallows SIGTERM (so every
// deploy waits out the grace period and ends in SIGKILL), a cache that is thrown away by every
// source change, and your .env baked into a layer for anyone who can pull the image.
//
// Rewrite `dockerfile` and `dockerignore` for the week's sample service. Its build context:
//   package.json         scripts: "build" (tsc, emits dist/) and "start" (node dist/main.js)
//   package-lock.json
//   tsconfig.json
//   src/**/*.ts          the service: dist/main.js listens on PORT (8080), serves /livez, /readyz
// plus what a developer's checkout also holds: .git/, node_modules/, dist/, coverage/, .npmrc,
// and .env files, at the root and in subfolders (config/.env.local).
//
// The tests parse both texts (dockerfile-ast, and Docker's own .dockerignore rules) and check
// what they mean, in any layout:
// 1. Multi-stage: the final stage copies what it runs from an earlier stage (COPY --from).
// 2. Every base image is pinned: a tag that starts with a version number
//    (node:22.12.0-bookworm-slim), better still a digest (@sha256:...); never `latest` or no tag.
//    ARG defaults declared before the first FROM are expanded.
// 3. Dependencies are installed with `npm ci` (never `npm install`, which may rewrite the
//    lockfile), and the final stage holds no dev dependency: install there with --omit=dev,
//    or copy node_modules from a stage that did (or that ran `npm prune --omit=dev`).
// 4. Layer order: before each `npm ci`, only package.json and package-lock.json are copied into
//    its stage; the sources come after, so a source change does not reinstall everything.
// 5. The final stage runs as a non-root USER (a name other than root, or a uid other than 0).
// 6. The start command (CMD and/or ENTRYPOINT) is in exec form, a JSON array, and runs node
//    directly or through tini/dumb-init: no shell and no npm in between.
// 7. A HEALTHCHECK, or (Kubernetes ignores HEALTHCHECK) a comment naming the probe paths.
// 8. No secrets: nothing named .env*, .npmrc, *.pem or *.key is COPYed or ADDed, and no ARG or
//    ENV is named like a secret (TOKEN, SECRET, PASSWORD, API_KEY...): build args are kept in
//    the image history. Use `RUN --mount=type=secret` instead.
// 9. The .dockerignore keeps .git, node_modules, dist, coverage, .npmrc and every .env file
//    (in subfolders too: Docker anchors patterns at the root) out of the context, and keeps
//    package.json, package-lock.json, tsconfig.json and src/ in it.
// Where a Docker engine runs, a further test builds the image and checks its size and user.
//
// These are template literals: write a Dockerfile variable as \${NAME} (a bare ${NAME} would
// be TypeScript's). To build it yourself:
//   npx tsx -e 'import("./src/dockerfile.ts").then((m) => process.stdout.write(m.dockerfile))' > Dockerfile
//
// Tests: tests/dockerfile.test.ts (npm run check week12 dockerfile).
// Keep the exported names: the tests import them.

// TODO: rewrite this Dockerfile; each test names one of its flaws.
export const dockerfile = `
FROM node:latest
WORKDIR /app
COPY . .
RUN npm install
RUN npm run build
EXPOSE 8080
CMD npm start
`;

// TODO: keep secrets, history and local builds out of the build context.
export const dockerignore = `
node_modules
`;
