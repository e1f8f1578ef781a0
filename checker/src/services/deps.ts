import os from "node:os";
import { findBinary, postgresBinDirs } from "./binaries";
import { containerRuntime, startContainer } from "./containers";
import { startEmbeddedPostgres } from "./embedded";
import { startPrivatePostgres } from "./postgres";
import { probePostgres, probeRedis } from "./probe";
import { probeRabbitMQ } from "./rabbitmq";
import { startPrivateRedis } from "./redis";
import type { ServiceDeps } from "./types";

/**
 * The real side effects. Binaries are looked up on `env.PATH`; testcontainers reads its own
 * settings (DOCKER_HOST, ~/.testcontainers.properties) from the process environment.
 */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ServiceDeps {
  return {
    probeRedis,
    probePostgres,
    probeRabbitMQ,
    findBinary: (name, preferDirs) => findBinary(name, preferDirs, env.PATH),
    postgresBinDirs: () => postgresBinDirs(),
    startPrivateRedis: (binary) => startPrivateRedis(binary),
    startPrivatePostgres: (tools) => startPrivatePostgres(tools),
    containerRuntime,
    startContainer,
    startEmbeddedPostgres: () => startEmbeddedPostgres(),
    isRoot: () => process.getuid?.() === 0,
    whoami: () => {
      try {
        return os.userInfo().username;
      } catch {
        // No passwd entry for this uid (some containers): fall back to what the shell says.
        return env.USER ?? env.USERNAME ?? "";
      }
    },
  };
}
