import { CONTAINER_IMAGES } from "./images";
import type { ServiceName, ServiceSource } from "./types";
import { redactUrl } from "./urls";

/** One rung of the ladder that did not give a server, and why. */
export interface Attempt {
  what: string;
  why: string;
}

export const ENV_VARS: Record<ServiceName, string> = {
  redis: "REDIS_URL",
  postgres: "DATABASE_URL",
  rabbitmq: "AMQP_URL",
};
const TITLES: Record<ServiceName, string> = { redis: "Redis", postgres: "Postgres", rabbitmq: "RabbitMQ" };

/** The one line the terminal shows for a service this run uses. */
export function describeResolved(name: ServiceName, source: ServiceSource, address: string, detail?: string): string {
  switch (source) {
    case "env":
      return `${name}: ${redactUrl(address)} (${ENV_VARS[name]})`;
    case "local":
      return `${name}: ${address}${detail ? `, ${detail}` : ""} (local)`;
    case "private":
      return `${name}: private ${name === "redis" ? "redis-server" : "Postgres"} on ${address} (started for this run)`;
    case "container":
      return `${name}: container ${CONTAINER_IMAGES[name]} on ${address} (started for this run)`;
    case "embedded":
      return `${name}: embedded PGlite on ${address} (single session only)`;
  }
}

function waysToGetIt(name: ServiceName): string[] {
  if (name === "redis") {
    return [
      "docker compose up -d redis   (Docker or Podman, with the course's compose.yaml), or",
      "install Redis (brew install redis, sudo apt install redis-server, ...): the checker then starts a private redis-server for each run, or uses one on 127.0.0.1:6379, or",
      "REDIS_URL=redis://host:6379 to use a Redis you already have.",
    ];
  }
  if (name === "rabbitmq") {
    return [
      "docker compose up -d rabbitmq   (Docker or Podman, with the course's compose.yaml), or",
      "install RabbitMQ (brew install rabbitmq, sudo apt install rabbitmq-server, ...) and start it (rabbitmq-server -detached): the checker uses one on 127.0.0.1:5672 with guest/guest, or",
      "AMQP_URL=amqp://user:password@host:5672 to use a broker you already have.",
    ];
  }
  return [
    "docker compose up -d postgres   (Docker or Podman, with the course's compose.yaml), or",
    "install Postgres (brew install postgresql@16, sudo apt install postgresql, ...) and run it on 127.0.0.1:5432 with a `postgres` role (or, as a non-root user, just have initdb installed: the checker then starts a private one for each run), or",
    "DATABASE_URL=postgres://user:password@host:5432/db to use a Postgres you already have.",
  ];
}

/** The message for a service that no rung of the ladder gave: what was tried, then every way to get one. */
export function unavailableMessage(name: ServiceName, attempts: readonly Attempt[]): string {
  return [
    `${name}: no ${TITLES[name]} server could be found or started. Tried, in order:`,
    ...attempts.map((a) => `  - ${a.what}: ${a.why}`),
    `Any one of these gets you ${TITLES[name]}; then run the check again:`,
    ...waysToGetIt(name).map((way) => `  - ${way}`),
  ].join("\n");
}

/**
 * The message when the URL variable is set but its server does not answer. The checker
 * does not fall back to anything else then: the learner asked for that server, and quietly
 * testing against another one would hide the mistake.
 */
export function envUnreachableMessage(name: ServiceName, url: string, why: string): string {
  const variable = ENV_VARS[name];
  return [
    `${name}: ${variable} is set to ${redactUrl(url)}, but that server does not answer: ${why}.`,
    `While ${variable} is set, the checker uses it and looks nowhere else. Either:`,
    `  - start the server it points to, or correct ${variable}, or`,
    `  - unset ${variable}, and the checker finds or starts ${TITLES[name]} itself (docker compose up -d ${name}, or a local install).`,
  ].join("\n");
}
