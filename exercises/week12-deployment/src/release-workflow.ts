// Kata: release-pipeline (part 1: the workflow)
//
// A pipeline is a list of guards, each answering one question before a change reaches users:
// does it lint, do the tests pass against real dependencies, does the image build, and who
// approved putting it in production? It is also the most privileged code in the repository:
// it holds the registry and cluster credentials, and it runs on code from strangers' pull
// requests. Below is the workflow many repositories start with. It works, and every test
// names one of the ways it can be abused or go wrong.
//
// Rewrite `workflow` (GitHub Actions YAML) for the week's sample service. What the tests check,
// on the parsed YAML and by simulating events (a pull request from a fork, a push to main,
// a push of tag v1.4.0), in any layout:
// - Triggers: pull requests to main, pushes to main, and tags v*; never pull_request_target
//   (it runs a fork's pull request with your secrets).
// - Jobs with these ids: `lint`, `test`, `build` and `deploy`. `build` needs lint and test
//   (directly or not); `deploy` needs build. Lint runs the linter (npm run lint), test runs
//   the tests (npm test), build builds the image.
// - test has service containers (postgres, say) with pinned images and a --health-cmd, so the
//   tests start only once the database answers.
// - The image is pushed only for a tag: for pull requests and main it is built, not pushed.
//   (docker/build-push-action's `push:` input, or `docker push` / `--push` in a run step.)
// - deploy runs only for a tag, through `environment: production` (its required reviewers,
//   set in the repository's settings, are the manual approval), and in a concurrency group of
//   its own that is the same for every release and does not cancel a deploy in progress.
// - Secrets: no job or step that runs for a pull request references `secrets.` (other than
//   secrets.GITHUB_TOKEN, which GitHub makes read-only for forks); no run script contains
//   ${{ secrets... }} (pass it through env:); no secret is echoed to the log (piping it, as
//   `printf '%s' "$TOKEN" | docker login --password-stdin`, is fine); no `set -x` near one.
// - Every action is pinned to a full 40-character commit SHA (`owner/repo@<sha> # v4.2.2`):
//   tags can be moved to malicious code, as happened to tj-actions/changed-files in 2025.
// - Every job that runs npm ci caches npm's downloads: actions/setup-node with `cache: npm`,
//   or actions/cache on ~/.npm keyed on hashFiles('**/package-lock.json'), before npm ci.
//   Dependencies are installed with npm ci, never npm install.
// - The GITHUB_TOKEN is read-only by default: a top-level `permissions:` that grants no write
//   (contents: read); a job that needs more (packages: write to push) asks for it.
//
// This is a template literal: write a GitHub expression as \${{ ... }} (a bare ${ would be
// TypeScript's). Part 2 is canary-analysis.ts.
// Tests: tests/release-workflow.test.ts (npm run check week12 release-pipeline).
// Keep the exported names: the tests import them.

// TODO: rewrite this workflow; each test names one of its flaws.
export const workflow = `
name: CI
on: [push, pull_request_target]
jobs:
  ci:
    runs-on: ubuntu-latest
    env:
      NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm install
      - run: npm run lint
      - run: npm test
      - run: echo "\${{ secrets.REGISTRY_PASSWORD }}" | docker login ghcr.io -u acme --password-stdin
      - run: docker build -t ghcr.io/acme/orders:latest . && docker push ghcr.io/acme/orders:latest
      - run: |
          set -x
          echo "$KUBECONFIG_DATA" > kubeconfig
          kubectl --kubeconfig kubeconfig apply -f k8s/
        env:
          KUBECONFIG_DATA: \${{ secrets.KUBECONFIG }}
`;
