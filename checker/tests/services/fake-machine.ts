import type { ProbeResult, RuntimeCheck, ServiceDeps, StartedServer } from "../../src/services";

/** Every side effect of a resolution, recorded in order, so tests can say what was and was not tried. */
export type Call = { op: keyof ServiceDeps; arg?: string };

export const REFUSED: ProbeResult = { ok: false, kind: "refused", reason: "connection refused, nothing listens there" };
export const OK: ProbeResult = { ok: true };
export const NO_RUNTIME: RuntimeCheck = {
  available: false,
  reason: "Could not find a working container runtime strategy",
};

/** A started server that remembers how many times it was stopped. */
export function fakeServer(url: string, address: string): StartedServer & { stops: number } {
  const server = {
    url,
    address,
    stops: 0,
    stop: async () => {
      server.stops++;
    },
  };
  return server;
}

/**
 * A machine with nothing on it: no server on the default ports, no binaries, no container
 * runtime, not root. Tests override the parts that exist. Start operations that a test did
 * not provide fail loudly, so an unexpected start shows up as an attempt in the message.
 */
export function fakeMachine(overrides: Partial<ServiceDeps> = {}): {
  deps: ServiceDeps;
  calls: Call[];
  called(op: keyof ServiceDeps): Call[];
} {
  const calls: Call[] = [];
  const notExpected = (op: string) => async (): Promise<never> => {
    throw new Error(`fake machine: ${op} was not expected`);
  };
  const base: ServiceDeps = {
    probeRedis: async () => REFUSED,
    probePostgres: async () => REFUSED,
    probeRabbitMQ: async () => REFUSED,
    findBinary: async () => undefined,
    postgresBinDirs: async () => [],
    startPrivateRedis: notExpected("startPrivateRedis"),
    startPrivatePostgres: notExpected("startPrivatePostgres"),
    containerRuntime: async () => NO_RUNTIME,
    startContainer: notExpected("startContainer"),
    startEmbeddedPostgres: notExpected("startEmbeddedPostgres"),
    isRoot: () => false,
    whoami: () => "learner",
  };
  const impl = { ...base, ...overrides };
  // Wrap every operation to record it, keeping the implementation's behaviour.
  const deps = Object.fromEntries(
    (Object.keys(impl) as (keyof ServiceDeps)[]).map((op) => [
      op,
      (...args: unknown[]) => {
        const first = args[0];
        calls.push({ op, arg: typeof first === "string" || first === undefined ? first : JSON.stringify(first) });
        return (impl[op] as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as ServiceDeps;
  return { deps, calls, called: (op) => calls.filter((c) => c.op === op) };
}
