// Reference solution for the `release-pipeline` kata, part 1: the release workflow of the
// week's sample service.
//
// The action SHAs are the commits of the versions in the comments (checkout v4.2.2, setup-node
// v4.4.0, setup-buildx v3.11.1, login v3.4.0, build-push v6.18.0). Before copying them, check
// each against its tag (`git ls-remote https://github.com/actions/checkout refs/tags/v4.2.2`)
// and let Dependabot or Renovate keep them current: they update SHA pins and their comments.

/** The GitHub Actions workflow: lint, test and build on every change; push and deploy for tags. */
export const workflow = `name: release

on:
  pull_request:
    branches: [main]
  push:
    branches: [main]
    tags: ["v*"]

# Read-only unless a job asks for more.
permissions:
  contents: read

# A newer push to the same pull request supersedes the run in progress; main and tags finish.
concurrency:
  group: \${{ github.workflow }}-\${{ github.ref }}
  cancel-in-progress: \${{ github.event_name == 'pull_request' }}

env:
  IMAGE: ghcr.io/\${{ github.repository }}

jobs:
  lint:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
        with:
          node-version: 22
          cache: npm
      - run: npm ci
      - run: npm run lint

  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 15
    services:
      postgres:
        image: postgres:16.4-alpine
        env:
          POSTGRES_PASSWORD: ci-only # a throwaway database in the runner, not a secret
        ports: ["5432:5432"]
        options: >-
          --health-cmd "pg_isready -U postgres"
          --health-interval 2s --health-timeout 5s --health-retries 20
    env:
      DATABASE_URL: postgres://postgres:ci-only@localhost:5432/postgres
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
        with:
          node-version: 22
          cache: npm
      - run: npm ci
      - run: npm test

  build:
    needs: [lint, test]
    runs-on: ubuntu-24.04
    timeout-minutes: 20
    permissions:
      contents: read
      packages: write
    outputs:
      digest: \${{ steps.image.outputs.digest }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: docker/setup-buildx-action@e468171a9de216ec08956ac3ada2f0791b6bd435 # v3.11.1
      - name: Log in to the registry
        if: startsWith(github.ref, 'refs/tags/v')
        uses: docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772 # v3.4.0
        with:
          registry: ghcr.io
          username: \${{ github.actor }}
          password: \${{ secrets.GITHUB_TOKEN }}
      # Every change builds the image (the Dockerfile is code too); only a release tag pushes it,
      # with its provenance attestation and SBOM.
      - id: image
        uses: docker/build-push-action@263435318d21b8e681c14492fe198d362a7d2c83 # v6.18.0
        with:
          context: .
          push: \${{ startsWith(github.ref, 'refs/tags/v') }}
          tags: \${{ env.IMAGE }}:\${{ startsWith(github.ref, 'refs/tags/v') && github.ref_name || github.sha }}
          cache-from: type=gha
          cache-to: type=gha,mode=max
          provenance: mode=max
          sbom: true

  deploy:
    needs: build
    if: startsWith(github.ref, 'refs/tags/v')
    runs-on: ubuntu-24.04
    timeout-minutes: 15
    # Required reviewers on this environment are the manual approval; its secrets exist only here.
    environment:
      name: production
      url: https://orders.example.com
    # One rollout at a time, whatever the tag; a deploy half-way is never cancelled.
    concurrency:
      group: deploy-production
      cancel-in-progress: false
    steps:
      - name: Roll out the pushed image, by digest
        env:
          KUBECONFIG_DATA: \${{ secrets.KUBECONFIG }}
          IMAGE: \${{ env.IMAGE }}@\${{ needs.build.outputs.digest }}
        run: |
          umask 077
          printf '%s' "$KUBECONFIG_DATA" | base64 --decode > "$RUNNER_TEMP/kubeconfig"
          export KUBECONFIG="$RUNNER_TEMP/kubeconfig"
          kubectl --namespace shop set image deployment/orders orders="$IMAGE"
          kubectl --namespace shop rollout status deployment/orders --timeout=10m
`;
