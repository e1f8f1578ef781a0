// Reference solution for the `graceful-shutdown` kata, part 2: the process. It runs the
// sample service and routes SIGTERM and SIGINT to the drain.
//
// Stryker disable all: this file only runs in the child processes of
// graceful-shutdown-process.test.ts, where an in-process coverage tool cannot see it; those
// tests exercise it end to end.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
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

  const shutdown = createGracefulShutdown({
    server,
    markNotReady: service.markNotReady,
    propagationDelayMs: config.SHUTDOWN_DELAY_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    resources: service.pools,
    // Written lines reach the pipe before exit: process.stdout writes to a pipe synchronously on Linux.
    exit: (code) => process.exit(code),
    log,
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => void shutdown.begin(signal));
  }

  server.listen(config.PORT, () => log(`listening ${(server.address() as AddressInfo).port}`));
}

main();
