import { POSTGRES_IMAGE, POSTGRES_DEFAULT_PORT } from "./postgres";
import { RABBITMQ_IMAGE, RABBITMQ_PORT } from "./rabbitmq";
import { REDIS_IMAGE, REDIS_PORT } from "./redis";
import { reasonOf, withTimeout } from "./timing";
import type { RuntimeCheck, ServiceName, StartedServer } from "./types";

// testcontainers (and dockerode under it) is imported only here and only when the cheaper
// sources failed: loading it costs a few hundred milliseconds.

/** Pulling an image on a slow link takes a while; starting one is seconds. */
const STARTUP_TIMEOUT_MS = 120_000;

/**
 * Whether testcontainers finds a container runtime. Without one it throws within
 * milliseconds; the bound covers a socket whose daemon never answers.
 */
export async function containerRuntime(timeoutMs: number): Promise<RuntimeCheck> {
  try {
    const client = await withTimeout(
      import("testcontainers").then((tc) => tc.getContainerRuntimeClient()),
      timeoutMs,
      "the container runtime check",
    );
    const runtime = client.info.containerRuntime;
    return {
      available: true,
      description: `${runtime.operatingSystem || "container runtime"} ${runtime.serverVersion} at ${runtime.host}`,
    };
  } catch (error) {
    return { available: false, reason: reasonOf(error) };
  }
}

interface ContainerSpec {
  image: string;
  port: number;
  environment: Record<string, string>;
  command?: string[];
  /** the log line that says the server is ready, and how many times it appears */
  readyLog: RegExp;
  readyTimes: number;
  url(host: string, port: number): string;
}

export const CONTAINER_SPECS: Record<ServiceName, ContainerSpec> = {
  redis: {
    image: REDIS_IMAGE,
    port: REDIS_PORT,
    environment: {},
    // Nothing persisted: the data is throwaway and disk writes only slow the tests.
    command: ["redis-server", "--save", "", "--appendonly", "no"],
    readyLog: /Ready to accept connections/,
    readyTimes: 1,
    url: (host, port) => `redis://${host}:${port}`,
  },
  postgres: {
    image: POSTGRES_IMAGE,
    port: POSTGRES_DEFAULT_PORT,
    environment: { POSTGRES_HOST_AUTH_METHOD: "trust", POSTGRES_DB: "test" },
    command: ["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    // The image's entrypoint runs a temporary server for its init scripts first, so the
    // line appears twice; only the second one is the real server.
    readyLog: /database system is ready to accept connections/,
    readyTimes: 2,
    url: (host, port) => `postgres://postgres@${host}:${port}/test`,
  },
  rabbitmq: {
    image: RABBITMQ_IMAGE,
    port: RABBITMQ_PORT,
    environment: {},
    // The image's default user guest/guest may connect from outside the container.
    readyLog: /Server startup complete/,
    readyTimes: 1,
    url: (host, port) => `amqp://guest:guest@${host}:${port}`,
  },
};

/** Starts the service's container with testcontainers and waits until its server is ready; stop() removes it. */
export async function startContainer(name: ServiceName): Promise<StartedServer> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const spec = CONTAINER_SPECS[name];
  let container = new GenericContainer(spec.image)
    .withExposedPorts(spec.port)
    .withEnvironment(spec.environment)
    .withWaitStrategy(Wait.forAll([Wait.forLogMessage(spec.readyLog, spec.readyTimes), Wait.forListeningPorts()]))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
  if (spec.command) container = container.withCommand(spec.command);
  const started = await container.start();
  const host = started.getHost();
  const port = started.getMappedPort(spec.port);
  let stopped: Promise<void> | undefined;
  return {
    url: spec.url(host, port),
    address: `${host}:${port}`,
    stop: () =>
      (stopped ??= started
        // No grace period: the data is throwaway, and a kill is instant.
        .stop({ timeout: 0, remove: true })
        .then(() => undefined)
        .catch(() => {
          // The reaper (Ryuk) removes it when this process exits anyway.
        })),
  };
}
