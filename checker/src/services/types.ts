import type { ServiceName } from "../course/schema";

export type { ServiceName };

/** Where a service came from, in the order the checker tries them. */
export type ServiceSource = "env" | "local" | "private" | "container" | "embedded";

/** What the selected katas need. */
export interface ServiceNeeds {
  redis: boolean;
  postgres: boolean;
  rabbitmq: boolean;
  /**
   * true when an embedded PGlite may serve: the selected Postgres katas are single-session
   * (the runner then skips any that are not, by `concurrentSessions`)
   */
  postgresSingleSessionOk: boolean;
}

export interface ResolvedService {
  name: ServiceName;
  /** e.g. redis://127.0.0.1:6379, postgres://postgres@127.0.0.1:5432/test */
  url: string;
  source: ServiceSource;
  /** one line for the terminal, e.g. "redis: 127.0.0.1:6379 (local)" */
  describe: string;
  /** false only for the embedded PGlite: katas that need concurrent sessions cannot use it */
  concurrentSessions: boolean;
  /** Stops what this run started (private server, container, embedded); a no-op otherwise. Idempotent. */
  stop(): Promise<void>;
}

export interface UnavailableService {
  name: ServiceName;
  /** Names what was tried and why each failed, then the ways to get the service. Several lines. */
  message: string;
}

export interface ServiceResolution {
  resolved: ResolvedService[];
  unavailable: UnavailableService[];
  /** Stops everything this run started; never rejects. */
  stopAll(): Promise<void>;
}

/** Why a probe failed; the kind drives what the resolver tries next. */
export type ProbeFailureKind =
  | "refused" // nothing listens
  | "timeout" // something listens but does not answer in time
  | "auth" // the server wants a password (or rejects the one given)
  | "no-role" // Postgres: the user does not exist
  | "no-database" // Postgres: the database does not exist
  | "error"; // anything else (protocol error, DNS, TLS...)

export type ProbeResult = { ok: true } | { ok: false; kind: ProbeFailureKind; reason: string };

/** A server this run started; `stop` ends it and removes whatever it left on disk. */
export interface StartedServer {
  url: string;
  /** host:port, for the terminal */
  address: string;
  stop(): Promise<void>;
}

/** The server binaries a private Postgres needs, from the same installation. */
export interface PostgresTools {
  initdb: string;
  postgres: string;
}

export type RuntimeCheck = { available: true; description: string } | { available: false; reason: string };

/**
 * Every side effect the resolver performs, injectable so the decision logic is unit-tested
 * with fakes. `defaultDeps()` gives the real ones.
 */
export interface ServiceDeps {
  /** Connects and runs PING, within timeoutMs. Never rejects. */
  probeRedis(url: string, timeoutMs: number): Promise<ProbeResult>;
  /** Connects and runs SELECT 1, within timeoutMs. Never rejects. */
  probePostgres(url: string, timeoutMs: number): Promise<ProbeResult>;
  /** Opens an AMQP connection and closes it, within timeoutMs. Never rejects. */
  probeRabbitMQ(url: string, timeoutMs: number): Promise<ProbeResult>;
  /** The real path of an executable named `name`, looked up in `preferDirs` first, then PATH. */
  findBinary(name: string, preferDirs?: readonly string[]): Promise<string | undefined>;
  /** Versioned Postgres bin folders that are not usually on PATH (Debian's /usr/lib/postgresql/N/bin), newest first. */
  postgresBinDirs(): Promise<string[]>;
  /** Starts redis-server on a free loopback port and waits until it answers PING. */
  startPrivateRedis(binary: string): Promise<StartedServer>;
  /** initdb in a temp dir, then postgres on a free loopback port with trust auth, until it accepts a connection. */
  startPrivatePostgres(tools: PostgresTools): Promise<StartedServer>;
  /** Whether a container runtime answers (testcontainers), within timeoutMs. Never rejects. */
  containerRuntime(timeoutMs: number): Promise<RuntimeCheck>;
  /** Starts the service's container and waits until it is ready. */
  startContainer(name: ServiceName): Promise<StartedServer>;
  /** PGlite behind a Postgres wire-protocol socket on a free loopback port, in this process. */
  startEmbeddedPostgres(): Promise<StartedServer>;
  isRoot(): boolean;
  whoami(): string;
}
