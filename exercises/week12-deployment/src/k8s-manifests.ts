// Kata: k8s-manifests
//
// A Deployment that "works" and a Deployment that survives a rollout, a node drain and a
// traffic spike differ in a dozen fields, and each missing one is an incident waiting for
// its day. Write renderManifests(config): it returns one YAML text with four documents, a
// Deployment (apps/v1), a Service (v1), a PodDisruptionBudget (policy/v1) and a
// HorizontalPodAutoscaler (autoscaling/v2), all named config.name in config.namespace.
//
// What the tests check, on the parsed YAML (any key order, any YAML style):
// - Every object passes the Kubernetes schemas (kubernetes-models), has no field the schemas
//   do not know, and a valid name.
// - The pods carry the labels app.kubernetes.io/name = name and app.kubernetes.io/version =
//   version. The Deployment's, the Service's and the PDB's selectors are non-empty, match
//   those labels, and leave the version out: a Deployment's selector cannot change after
//   creation, and a Service that selects one version drops the other half mid-rollout.
// - One container: the image, a port named "http" on containerPort; the Service maps
//   servicePort to it. Probes (httpGet, on that port by number or name): startupProbe on
//   /startupz, readinessProbe on /readyz, livenessProbe on /livez (PROBE_PATHS).
// - resources exactly as configured (requests cpu and memory, a memory limit, a cpu limit
//   only when given).
// - Security: runAsNonRoot (pod or container level) with a non-zero numeric runAsUser,
//   readOnlyRootFilesystem, allowPrivilegeEscalation false, capabilities drop ALL, and an
//   emptyDir mounted at /tmp (a read-only root still needs somewhere to write).
// - Shutdown: a preStop hook that sleeps shutdown.preStopSeconds (the `sleep` action; an exec
//   of `sleep` needs a sleep binary, which distroless images lack), and a
//   terminationGracePeriodSeconds greater than preStopSeconds + drainSeconds: the grace
//   period covers the preStop hook too, and the SIGKILL at its end kills a drain mid-way.
// - A rolling update that never lowers capacity: maxUnavailable 0 and a maxSurge above 0.
// - The HPA scales the Deployment between replicas.min and replicas.max on average CPU
//   utilisation (targetCpuPercent); the Deployment leaves spec.replicas out or sets it to min
//   (otherwise every apply resets what the HPA chose).
// - The PDB lets a node drain evict at least one pod at replicas.min, and keeps at least one.
// - config.env, if given, becomes the container's env (name/value pairs).
// Invalid config is a RangeError: a name or namespace that is not a DNS-1123 label (lower-case
// letters, digits and '-', at most 63, starting and ending alphanumeric), a version that is not
// a label value (at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends), an
// empty image, fewer than 2 min replicas (a PDB cannot allow a drain and keep a pod with one),
// max below min, a port outside 1..65535, targetCpuPercent outside 1..100, a negative or
// non-integer number of seconds.
//
// Tests: tests/k8s-manifests.test.ts (npm run check week12 k8s-manifests).
// Keep the exported names and signatures: the tests import them.

import { stringify } from "yaml";
import { NotImplementedError } from "#kata";
import { PROBE_PATHS } from "./probe-paths";

export interface ServiceDeployment {
  /** Names every object; a DNS-1123 label. */
  readonly name: string;
  readonly namespace: string;
  /** registry/repository:tag, ideally with @sha256:... */
  readonly image: string;
  /** The release, say the image tag: a pod label, never part of a selector. */
  readonly version: string;
  /** The port the app listens on (its PORT). */
  readonly containerPort: number;
  /** The port the Service offers inside the cluster. */
  readonly servicePort: number;
  readonly replicas: { readonly min: number; readonly max: number };
  /** The HPA's target: average CPU use in percent of the CPU request. */
  readonly targetCpuPercent: number;
  readonly resources: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly memory: string; readonly cpu?: string };
  };
  readonly shutdown: {
    /** The preStop sleep: the pod keeps serving while its endpoint removal propagates. */
    readonly preStopSeconds: number;
    /** How long the app may drain after SIGTERM (graceful-shutdown's SHUTDOWN_TIMEOUT_MS, in s). */
    readonly drainSeconds: number;
  };
  readonly env?: Readonly<Record<string, string>>;
}

/** Renders the Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler as YAML. */
export function renderManifests(config: ServiceDeployment): string {
  // TODO: validate the config (RangeError), build the four objects as plain data, and
  // stringify each (yaml's stringify) into one text with `---` between the documents.
  void config;
  void stringify;
  void PROBE_PATHS;
  throw new NotImplementedError("k8s-manifests");
}
