import { defaultDeps } from "./deps";
import { type Attempt, describeResolved, ENV_VARS, envUnreachableMessage, unavailableMessage } from "./messages";
import { CONTAINER_IMAGES } from "./images";
import { findLocalPostgres, locatePostgresTools, POSTGRES_DEFAULT_HOST, POSTGRES_DEFAULT_PORT } from "./postgres";
import { RABBITMQ_DEFAULT_URL } from "./rabbitmq";
import { REDIS_DEFAULT_URL } from "./redis";
import { reasonOf } from "./timing";
import type {
  ResolvedService,
  RuntimeCheck,
  ServiceDeps,
  ServiceName,
  ServiceNeeds,
  ServiceResolution,
  ServiceSource,
  StartedServer,
  UnavailableService,
} from "./types";
import { hostPort } from "./urls";

/** A URL the learner set may be remote, behind TLS: give it longer than loopback. */
export const ENV_PROBE_TIMEOUT_MS = 3_000;
/** Loopback answers in a millisecond or refuses at once; this only bounds a wedged server. */
export const LOCAL_PROBE_TIMEOUT_MS = 800;
/** testcontainers fails in milliseconds without a runtime; this bounds a socket whose daemon hangs. */
export const RUNTIME_CHECK_TIMEOUT_MS = 2_000;
/** A container that reported ready gets one more real connection before we trust it. */
const CONTAINER_PROBE_TIMEOUT_MS = 5_000;

export interface ResolveOptions {
  /** Where REDIS_URL, DATABASE_URL and PATH are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Replaces some side effects (tests). */
  deps?: Partial<ServiceDeps>;
  /** Gets one line per decision worth telling the learner. */
  log?: (line: string) => void;
}

type Outcome = { ok: true; service: ResolvedService } | { ok: false; unavailable: UnavailableService };

interface Context {
  env: NodeJS.ProcessEnv;
  deps: ServiceDeps;
  log: (line: string) => void;
  /** The container runtime check, run at most once per resolution and shared by both services. */
  runtime(): Promise<RuntimeCheck>;
}

function resolvedService(
  name: ServiceName,
  source: ServiceSource,
  server: StartedServer,
  detail?: string,
): ResolvedService {
  // stop() may be called by stopAll and by a signal handler: the server is stopped once.
  let stopping: Promise<void> | undefined;
  return {
    name,
    url: server.url,
    source,
    describe: describeResolved(name, source, server.address, detail),
    concurrentSessions: source !== "embedded",
    stop: () => (stopping ??= server.stop()),
  };
}

/** Something this run did not start: stopping it is not ours to do. */
function external(url: string, address: string): StartedServer {
  return { url, address, stop: async () => {} };
}

function succeed(ctx: Context, service: ResolvedService): Outcome {
  ctx.log(service.describe);
  return { ok: true, service };
}

function probeFor(ctx: Context, name: ServiceName): ServiceDeps["probeRedis"] {
  return name === "redis" ? ctx.deps.probeRedis : name === "postgres" ? ctx.deps.probePostgres : ctx.deps.probeRabbitMQ;
}

function fail(ctx: Context, name: ServiceName, message: string, summary = `${name}: not available`): Outcome {
  ctx.log(summary);
  return { ok: false, unavailable: { name, message } };
}

/** Rung 1: the URL variable. Set means "use this one": a dead server there is an error, not a reason to look elsewhere. */
async function fromEnv(ctx: Context, name: ServiceName): Promise<Outcome | undefined> {
  const variable = ENV_VARS[name];
  const url = ctx.env[variable]?.trim();
  if (!url) return undefined;
  const result = await probeFor(ctx, name)(url, ENV_PROBE_TIMEOUT_MS);
  if (result.ok) return succeed(ctx, resolvedService(name, "env", external(url, url)));
  return fail(
    ctx,
    name,
    envUnreachableMessage(name, url, result.reason),
    `${name}: ${variable} does not answer (${result.reason})`,
  );
}

/** Rung 4: a container, when a runtime answers. */
async function fromContainer(ctx: Context, name: ServiceName, attempts: Attempt[]): Promise<Outcome | undefined> {
  const image = CONTAINER_IMAGES[name];
  const runtime = await ctx.runtime();
  if (!runtime.available) {
    attempts.push({ what: `a ${image} container`, why: `no container runtime answers (${runtime.reason})` });
    return undefined;
  }
  ctx.log(`${name}: starting a ${image} container through ${runtime.description} (the first time pulls the image)...`);
  let server: StartedServer | undefined;
  try {
    server = await ctx.deps.startContainer(name);
    const check = await probeFor(ctx, name)(server.url, CONTAINER_PROBE_TIMEOUT_MS);
    if (!check.ok) throw new Error(`it started, but ${server.address} does not answer: ${check.reason}`);
    return succeed(ctx, resolvedService(name, "container", server));
  } catch (error) {
    await server?.stop().catch(() => {});
    attempts.push({ what: `a ${image} container through ${runtime.description}`, why: reasonOf(error) });
    return undefined;
  }
}

async function resolveRedis(ctx: Context): Promise<Outcome> {
  const fromVariable = await fromEnv(ctx, "redis");
  if (fromVariable) return fromVariable;
  const attempts: Attempt[] = [{ what: "REDIS_URL", why: "not set" }];

  const address = hostPort(REDIS_DEFAULT_URL, 6379);
  const local = await ctx.deps.probeRedis(REDIS_DEFAULT_URL, LOCAL_PROBE_TIMEOUT_MS);
  if (local.ok) return succeed(ctx, resolvedService("redis", "local", external(REDIS_DEFAULT_URL, address)));
  attempts.push({ what: address, why: local.reason });
  if (local.kind !== "refused") ctx.log(`redis: ${address} is there but unusable (${local.reason}); trying other ways`);

  const binary = await ctx.deps.findBinary("redis-server");
  if (binary === undefined) {
    attempts.push({ what: "a private redis-server", why: "no redis-server on PATH" });
  } else {
    ctx.log(`redis: starting a private ${binary}...`);
    try {
      return succeed(ctx, resolvedService("redis", "private", await ctx.deps.startPrivateRedis(binary)));
    } catch (error) {
      attempts.push({ what: `a private ${binary}`, why: reasonOf(error) });
    }
  }

  return (await fromContainer(ctx, "redis", attempts)) ?? fail(ctx, "redis", unavailableMessage("redis", attempts));
}

async function resolvePostgres(ctx: Context, singleSessionOk: boolean): Promise<Outcome> {
  const fromVariable = await fromEnv(ctx, "postgres");
  if (fromVariable) return fromVariable;
  const attempts: Attempt[] = [{ what: "DATABASE_URL", why: "not set" }];

  const address = `${POSTGRES_DEFAULT_HOST}:${POSTGRES_DEFAULT_PORT}`;
  const local = await findLocalPostgres(ctx.deps.probePostgres, ctx.deps.whoami(), LOCAL_PROBE_TIMEOUT_MS);
  if (local.ok) {
    const { user, database, url } = local.candidate;
    return succeed(
      ctx,
      resolvedService("postgres", "local", external(url, address), `user ${user}, database ${database}`),
    );
  }
  attempts.push({ what: address, why: local.reason });
  if (local.listening) ctx.log(`postgres: ${address} is there but unusable; trying other ways`);

  const tools = await locatePostgresTools(ctx.deps);
  if (!tools.found) {
    attempts.push({ what: "a private Postgres", why: tools.reason });
  } else if (ctx.deps.isRoot()) {
    // Postgres exits at once when started as root, and switching users behind the
    // learner's back (su, sudo) is not ours to do.
    attempts.push({
      what: `a private Postgres from ${tools.tools.postgres}`,
      why: "skipped: the checker runs as root, and Postgres refuses to run as root (run the check as a normal user to get this option)",
    });
  } else {
    ctx.log(`postgres: starting a private Postgres from ${tools.tools.postgres}...`);
    try {
      return succeed(ctx, resolvedService("postgres", "private", await ctx.deps.startPrivatePostgres(tools.tools)));
    } catch (error) {
      attempts.push({ what: `a private Postgres from ${tools.tools.postgres}`, why: reasonOf(error) });
    }
  }

  const container = await fromContainer(ctx, "postgres", attempts);
  if (container) return container;

  if (!singleSessionOk) {
    attempts.push({
      what: "an embedded PGlite",
      why: "not used: the selected Postgres katas need concurrent sessions, and PGlite has one",
    });
  } else {
    ctx.log("postgres: starting an embedded PGlite (single session only)...");
    try {
      return succeed(ctx, resolvedService("postgres", "embedded", await ctx.deps.startEmbeddedPostgres()));
    } catch (error) {
      attempts.push({ what: "an embedded PGlite", why: reasonOf(error) });
    }
  }

  return fail(ctx, "postgres", unavailableMessage("postgres", attempts));
}

/**
 * RabbitMQ: the URL variable, a broker on the default port, then a container. No private
 * broker: an Erlang node takes many seconds to boot and leaves state behind, so a learner
 * with RabbitMQ installed starts it once (rabbitmq-server -detached) rather than per run.
 */
async function resolveRabbitMQ(ctx: Context): Promise<Outcome> {
  const fromVariable = await fromEnv(ctx, "rabbitmq");
  if (fromVariable) return fromVariable;
  const attempts: Attempt[] = [{ what: "AMQP_URL", why: "not set" }];

  const address = hostPort(RABBITMQ_DEFAULT_URL, 5672);
  const local = await ctx.deps.probeRabbitMQ(RABBITMQ_DEFAULT_URL, LOCAL_PROBE_TIMEOUT_MS);
  if (local.ok)
    return succeed(ctx, resolvedService("rabbitmq", "local", external(RABBITMQ_DEFAULT_URL, address), "user guest"));
  attempts.push({ what: `${address} (guest/guest)`, why: local.reason });
  if (local.kind !== "refused")
    ctx.log(`rabbitmq: ${address} is there but unusable (${local.reason}); trying other ways`);

  return (
    (await fromContainer(ctx, "rabbitmq", attempts)) ?? fail(ctx, "rabbitmq", unavailableMessage("rabbitmq", attempts))
  );
}

/** A failure in the ladder itself must not take the whole run down: the service is just unavailable. */
async function guarded(ctx: Context, name: ServiceName, ladder: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await ladder();
  } catch (error) {
    return fail(
      ctx,
      name,
      unavailableMessage(name, [{ what: "resolving it", why: `unexpected error: ${reasonOf(error)}` }]),
    );
  }
}

/**
 * Finds or starts each service the selected katas need, once, in the order the course
 * promises (URL variable, default port, private server, container, embedded PGlite), and
 * reports the ones it could not get with a message that says how to get them.
 */
export async function resolveServices(needs: ServiceNeeds, options: ResolveOptions = {}): Promise<ServiceResolution> {
  const env = options.env ?? process.env;
  const deps: ServiceDeps = { ...defaultDeps(env), ...options.deps };
  let runtime: Promise<RuntimeCheck> | undefined;
  const ctx: Context = {
    env,
    deps,
    log: options.log ?? (() => {}),
    runtime: () => (runtime ??= deps.containerRuntime(RUNTIME_CHECK_TIMEOUT_MS)),
  };

  // The two ladders are independent, so they run side by side: a bare machine pays for the
  // slowest one, not for both.
  const outcomes = await Promise.all([
    needs.redis ? guarded(ctx, "redis", () => resolveRedis(ctx)) : undefined,
    needs.postgres ? guarded(ctx, "postgres", () => resolvePostgres(ctx, needs.postgresSingleSessionOk)) : undefined,
    needs.rabbitmq ? guarded(ctx, "rabbitmq", () => resolveRabbitMQ(ctx)) : undefined,
  ]);

  const resolved: ResolvedService[] = [];
  const unavailable: UnavailableService[] = [];
  for (const outcome of outcomes) {
    if (outcome === undefined) continue;
    if (outcome.ok) resolved.push(outcome.service);
    else unavailable.push(outcome.unavailable);
  }
  return {
    resolved,
    unavailable,
    stopAll: async () => {
      await Promise.allSettled(resolved.map((service) => service.stop()));
    },
  };
}

/** The variable each service's URL reaches the test processes in (the fixtures read it). */
export const SERVICE_URL_VARS: Record<ServiceName, string> = {
  redis: "KATA_REDIS_URL",
  postgres: "KATA_DATABASE_URL",
  rabbitmq: "KATA_AMQP_URL",
};

/** Environment variables to hand to the test processes: KATA_REDIS_URL, KATA_DATABASE_URL, KATA_AMQP_URL. */
export function serviceEnv(resolution: ServiceResolution): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of resolution.resolved) env[SERVICE_URL_VARS[service.name]] = service.url;
  return env;
}
