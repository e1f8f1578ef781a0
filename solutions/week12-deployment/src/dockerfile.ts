// Reference solution for the `dockerfile` kata: a production image for the week's sample
// service. Kept as text because the image is built from text; the tests parse it.
//
// The base is pinned to an exact version tag. In a real repository, pin its digest as well
// (`docker buildx imagetools inspect node:22.12.0-bookworm-slim` prints it) and let a bot
// such as Renovate or Dependabot propose updates: a tag can be moved, a digest cannot.

/** The Dockerfile: a build stage with dev dependencies, a runtime stage without them. */
export const dockerfile = `# syntax=docker/dockerfile:1
# Kubernetes ignores HEALTHCHECK and probes the service itself: /livez, /readyz and /startupz.

ARG NODE_IMAGE=node:22.12.0-bookworm-slim

FROM \${NODE_IMAGE} AS base
WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lockfile changes.
FROM base AS build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json ./
COPY src ./src
# Compile, then drop the dev dependencies before anything is copied out of this stage.
RUN npm run build && npm prune --omit=dev

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=build --chown=1000:1000 /app/package.json ./
COPY --from=build --chown=1000:1000 /app/node_modules ./node_modules
COPY --from=build --chown=1000:1000 /app/dist ./dist
# The image's node user, by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 1000:1000
EXPOSE 8080
# For docker run and compose; node itself does the probe, so the image needs no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, so the drain of graceful-shutdown runs.
CMD ["node", "dist/main.js"]
`;

/** The .dockerignore: an allow-list, so a new secret file is left out by default. */
export const dockerignore = `# Everything is out unless listed below: a new .env or key file cannot slip in.
*
!package.json
!package-lock.json
!tsconfig.json
!src/
# ...but not a stray secret or local build inside src either.
**/.env*
**/*.pem
**/*.key
**/node_modules
src/**/*.test.ts
`;
