import { POSTGRES_IMAGE } from "./postgres";
import { RABBITMQ_IMAGE } from "./rabbitmq";
import { REDIS_IMAGE } from "./redis";
import type { ServiceName } from "./types";

/** The container image the checker starts for each service when a container runtime answers. */
export const CONTAINER_IMAGES: Record<ServiceName, string> = {
  redis: REDIS_IMAGE,
  postgres: POSTGRES_IMAGE,
  rabbitmq: RABBITMQ_IMAGE,
};
