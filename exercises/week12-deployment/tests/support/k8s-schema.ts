/**
 * Checks rendered Kubernetes objects against the API's schemas, in two ways:
 * - kubernetes-models' validate(): types, enums and required fields (it accepts unknown
 *   fields, so a misspelt `readinessprobe` would pass it);
 * - unknownFields(): every key is looked up in the TypeScript interfaces that
 *   kubernetes-models generates from the Kubernetes OpenAPI spec, read with the TypeScript
 *   compiler in a worker thread (k8s-schema-worker.mjs), so a field the API server would drop
 *   (or reject) is named with its path.
 */
import { Worker } from "node:worker_threads";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Service } from "kubernetes-models/v1/Service";

const MODELS = {
  Deployment: { module: "kubernetes-models/apps/v1/Deployment", type: "IDeployment" },
  Service: { module: "kubernetes-models/v1/Service", type: "IService" },
  PodDisruptionBudget: { module: "kubernetes-models/policy/v1/PodDisruptionBudget", type: "IPodDisruptionBudget" },
  HorizontalPodAutoscaler: {
    module: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    type: "IHorizontalPodAutoscaler",
  },
} as const;

const VALIDATE: Record<string, (object: never) => void> = {
  Deployment: (o) => new Deployment(o).validate(),
  Service: (o) => new Service(o).validate(),
  PodDisruptionBudget: (o) => new PodDisruptionBudget(o).validate(),
  HorizontalPodAutoscaler: (o) => new HorizontalPodAutoscaler(o).validate(),
};

/** kubernetes-models' own validation; throws with the failing path. */
export function validateObject(kind: string, object: unknown): void {
  const validate = VALIDATE[kind];
  if (!validate) throw new Error(`no model for kind ${kind}`);
  validate(object as never);
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve(paths: string[]): void; reject(error: Error): void }>();

function schemaWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL("./k8s-schema-worker.mjs", import.meta.url), { workerData: { models: MODELS } });
  started.on("message", (reply: { id: number; unknown?: string[]; error?: string }) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) waiting?.reject(new Error(reply.error));
    else waiting?.resolve(reply.unknown ?? []);
  });
  started.on("error", (error) => {
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  });
  worker = started;
  return started;
}

/** The paths of every field in `object` that the kind's schema does not have. */
export function unknownFields(kind: string, object: unknown): Promise<string[]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    schemaWorker().postMessage({ id, kind, object });
  });
}

/** Stops the worker thread; call it after the file's tests. */
export async function closeSchemaWorker(): Promise<void> {
  const running = worker;
  worker = undefined;
  await running?.terminate();
}

/** RFC 1123 label, as Kubernetes requires of Service names, namespaces and most object names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const isDnsLabel = (name: unknown) => typeof name === "string" && name.length <= 63 && DNS_LABEL.test(name);
