import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { spawnKata, type KataProcess } from "#fixtures/process";
import { kataPath } from "#fixtures/target";
import { firstRefusal, get, refuses, within } from "./support/http-client";

const entry = kataPath(import.meta.url, "../src/server-main.ts");
const children: KataProcess[] = [];
const agents: http.Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  // A test that failed half-way must not leave a server process behind.
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill("SIGKILL");
    await child.exited();
  }
});

/** Starts server-main.ts in a real child process on a free port; resolves once it listens. */
async function startServer(env: Record<string, string>): Promise<{ server: KataProcess; port: number }> {
  const server = spawnKata(entry, { env: { PORT: "0", ...env } });
  children.push(server);
  const line = await server.waitForLine(/^listening \d+$/, 20_000);
  return { server, port: Number(line.split(" ")[1]) };
}

function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true });
  agents.push(agent);
  return agent;
}

/** The status of a GET, or the network error's code when there was no answer. */
const statusOf = (port: number, path: string, agent?: http.Agent) =>
  get(port, path, agent ?? false).then(
    (reply) => reply.status,
    (error: NodeJS.ErrnoException) => `no answer (${error.code ?? error.message})`,
  );
const exitOf = (server: KataProcess, ms: number, what: string) => within(server.exited(), ms, what);
const lineIndex = (server: KataProcess, line: string) => server.stdout().split("\n").indexOf(line);

// Real processes start in a second or two, more on a busy machine: these tests get a wider bound.
describe("on SIGTERM, a real server process drains and exits 0", { timeout: 60_000 }, () => {
  it("answers readyz 503, serves through the delay, refuses after it, finishes the slow request, closes its pools, exits 0", async () => {
    const { server, port } = await startServer({ SHUTDOWN_DELAY_MS: "3000", SHUTDOWN_TIMEOUT_MS: "15000" });
    const idle = await get(port, "/", keepAliveAgent());
    let idleClosedAt = Number.POSITIVE_INFINITY;
    idle.socket.once("close", () => (idleClosedAt = performance.now()));
    const slow = get(port, "/slow?ms=6000", keepAliveAgent()).catch((error: Error) => error);
    await server.waitForLine(/^started \/slow$/);

    const t0 = performance.now();
    server.child.kill("SIGTERM");
    await server.waitForLine(/^draining$/);
    expect(
      await statusOf(port, "/readyz"),
      "readiness turns 503 first, so the endpoints controller takes the pod out",
    ).toBe(503);
    expect(await statusOf(port, "/"), "during the delay (3000 ms), requests that still arrive are served").toBe(200);
    const refusedAt = await firstRefusal(port, 10_000, "the process kept accepting connections long after its delay");
    expect(refusedAt - t0, "new connections are refused only after SHUTDOWN_DELAY_MS (3000 ms)").toBeGreaterThanOrEqual(
      2_950,
    );

    const answered = await within(slow, 10_000, "the slow request started before SIGTERM never got an answer");
    const answeredAt = performance.now();
    expect(
      answered instanceof Error ? `no answer (${answered.message})` : answered.status,
      "the request in flight at SIGTERM completes; 500 means a pool was closed under it",
    ).toBe(200);
    expect(answered instanceof Error ? "" : answered.body).toBe("done");
    expect(
      idleClosedAt,
      "the idle keep-alive socket is closed when the server stops accepting, not left for 65 s",
    ).toBeLessThan(answeredAt);

    const exit = await exitOf(server, 15_000, "the process exiting after its drain");
    expect(
      exit,
      `a clean drain exits 0 before the deadline; stdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`,
    ).toEqual({ code: 0, signal: null });
    const finished = lineIndex(server, "finished /slow");
    expect(finished, "the slow request finished").toBeGreaterThanOrEqual(0);
    expect(lineIndex(server, "closed db"), "the db pool is closed after the last request that uses it").toBeGreaterThan(
      finished,
    );
    expect(lineIndex(server, "closed cache"), "then the cache pool, in the order given").toBeGreaterThan(
      lineIndex(server, "closed db"),
    );
    expect(await refuses(port), "nothing is left listening").toBe(true);
  });

  it("handles SIGINT (Ctrl-C) the same way", async () => {
    const { server } = await startServer({ SHUTDOWN_DELAY_MS: "100", SHUTDOWN_TIMEOUT_MS: "10000" });
    server.child.kill("SIGINT");
    const exit = await exitOf(server, 15_000, "the process exiting after SIGINT");
    expect(exit, `stderr:\n${server.stderr()}`).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/^draining$/m);
  });
});

describe("when waiting is not an option, the process exits non-zero", { timeout: 60_000 }, () => {
  it("exits non-zero at once on a second signal, long before its delay is over", async () => {
    const { server } = await startServer({ SHUTDOWN_DELAY_MS: "30000", SHUTDOWN_TIMEOUT_MS: "60000" });
    server.child.kill("SIGTERM");
    await server.waitForLine(/^draining$/);
    server.child.kill("SIGTERM");
    const exit = await exitOf(
      server,
      10_000,
      "exiting on the second SIGTERM (the delay is 30 s: it must not wait for it)",
    );
    expect(exit.signal, "the process handles the signal itself instead of dying of it").toBeNull();
    expect(exit.code, "a forced exit is not a clean one").not.toBe(0);
  });

  it("exits non-zero at its deadline when a request outlives it, and the request gets no 200", async () => {
    const { server, port } = await startServer({ SHUTDOWN_DELAY_MS: "0", SHUTDOWN_TIMEOUT_MS: "1500" });
    const slow = get(port, "/slow?ms=60000", keepAliveAgent()).then(
      (reply) => reply.status,
      () => "no answer",
    );
    await server.waitForLine(/^started \/slow$/);
    const t0 = performance.now();
    server.child.kill("SIGTERM");
    const exit = await exitOf(server, 15_000, "exiting at SHUTDOWN_TIMEOUT_MS while a request still runs");
    expect(
      performance.now() - t0,
      "the deadline is SHUTDOWN_TIMEOUT_MS (1500 ms) after the signal",
    ).toBeGreaterThanOrEqual(1_450);
    expect(exit.signal).toBeNull();
    expect(exit.code, "a drain cut off by the deadline must not report success").not.toBe(0);
    expect(await slow, "the request could not finish in time").not.toBe(200);
  });
});
