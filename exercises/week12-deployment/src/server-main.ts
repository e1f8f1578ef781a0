// Kata: graceful-shutdown (part 2: the process)
//
// This is what the container's entrypoint runs (`node dist/server-main.js`): the sample
// service on a real port. The configuration and the server are set up for you. What is left
// is the lifecycle, which the tests drive with real signals:
// - create the graceful shutdown (graceful-shutdown.ts) over the server, the service's
//   markNotReady, its pools, config.SHUTDOWN_DELAY_MS and config.SHUTDOWN_TIMEOUT_MS, with an
//   exit that ends the process with that code;
// - route SIGTERM (Kubernetes, docker stop) and SIGINT (Ctrl-C) to begin(); the second
//   signal forces exit 1 (begin() does that for you);
// - print `listening <port>` once the server listens (already written below).
// Tests: tests/graceful-shutdown-process.test.ts (npm run check week12 graceful-shutdown).
// Keep the exported names and signatures: the tests import them.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { NotImplementedError } from "#kata";
import { createGracefulShutdown } from "./graceful-shutdown";
import { createSampleService } from "./sample-service";

const millis = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8_080),
  // Long enough for endpoint removal to reach every load balancer.
  SHUTDOWN_DELAY_MS: millis(5_000),
  // Below Kubernetes' default 30 s grace period, so we finish before the SIGKILL does it for us.
  SHUTDOWN_TIMEOUT_MS: millis(25_000),
});

/** Reads the process configuration from the environment; a clear error names every bad variable. */
export function readServerConfig(env: NodeJS.ProcessEnv) {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid server configuration: ${issues.join("; ")}`);
  }
  return parsed.data;
}

function main(): void {
  const config = readServerConfig(process.env);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const service = createSampleService(log);
  const server = createServer(service.app);
  // Above a cloud load balancer's 60 s idle timeout, as it should be in production, so the
  // balancer (not us) closes idle connections. It is also why server.close() alone waits so long.
  server.keepAliveTimeout = 65_000;

  // TODO: create the graceful shutdown and route SIGTERM and SIGINT to its begin().
  void createGracefulShutdown;
  throw new NotImplementedError("graceful-shutdown");

  // eslint-disable-next-line no-unreachable -- kept for you: once the throw above is gone, the server listens.
  server.listen(config.PORT, () => log(`listening ${(server.address() as AddressInfo).port}`));
}

main();
