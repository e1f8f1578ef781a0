// The services a run needs, found or started once: the checker's runner imports from here.
export { resolveServices, serviceEnv, type ResolveOptions } from "./resolve";
export { defaultDeps } from "./deps";
export type {
  PostgresTools,
  ProbeResult,
  ResolvedService,
  RuntimeCheck,
  ServiceDeps,
  ServiceNeeds,
  ServiceResolution,
  ServiceSource,
  StartedServer,
  UnavailableService,
} from "./types";
