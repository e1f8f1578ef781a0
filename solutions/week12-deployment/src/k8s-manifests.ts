// Reference solution for the `k8s-manifests` kata: the four objects a stateless HTTP
// service needs to roll out, drain and scale without losing a request.

import { stringify } from "yaml";
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

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
// The node image's `node` user; numeric, so the kubelet can verify runAsNonRoot.
const APP_UID = 1000;
// Time between the drain's deadline and the SIGKILL: process exit, log flushing.
const GRACE_MARGIN_SECONDS = 5;

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

function validate(c: ServiceDeployment): void {
  for (const [field, value] of [
    ["name", c.name],
    ["namespace", c.namespace],
  ] as const) {
    check(value.length <= 63 && DNS_LABEL.test(value), `${field} must be a DNS-1123 label: ${JSON.stringify(value)}`);
  }
  const version = c.version;
  check(version.length <= 63 && LABEL_VALUE.test(version), `version must be a label value: ${JSON.stringify(version)}`);
  check(c.image.trim() !== "", "image is required");
  for (const [field, port] of [
    ["containerPort", c.containerPort],
    ["servicePort", c.servicePort],
  ] as const) {
    check(Number.isInteger(port) && port >= 1 && port <= 65_535, `${field} must be a port number`);
  }
  const { min, max } = c.replicas;
  check(Number.isInteger(min) && min >= 2, "replicas.min must be at least 2: one replica cannot survive a drain");
  check(Number.isInteger(max) && max >= min, "replicas.max must be at least replicas.min");
  const cpu = c.targetCpuPercent;
  check(Number.isInteger(cpu) && cpu >= 1 && cpu <= 100, "targetCpuPercent must be 1..100");
  for (const [field, seconds] of Object.entries(c.shutdown)) {
    check(Number.isInteger(seconds) && seconds >= 0, `shutdown.${field} must be a whole number of seconds >= 0`);
  }
}

/** Renders the Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler as YAML. */
export function renderManifests(config: ServiceDeployment): string {
  validate(config);
  const { name, namespace } = config;
  // The selector: stable for the Deployment's whole life, so no version in it.
  const selector = { "app.kubernetes.io/name": name };
  const labels = {
    ...selector,
    "app.kubernetes.io/version": config.version,
    "app.kubernetes.io/managed-by": "week12-kata",
  };
  const metadata = { name, namespace, labels };
  const httpGet = (path: string) => ({ path, port: "http" });
  const { preStopSeconds, drainSeconds } = config.shutdown;
  const { requests, limits } = config.resources;

  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata,
    spec: {
      // No replicas: the HPA owns the count, and an apply must not reset it.
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      // Surge a new pod before an old one goes: capacity never drops during a rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: preStopSeconds + drainSeconds + GRACE_MARGIN_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: APP_UID,
            runAsGroup: APP_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name,
              image: config.image,
              ports: [{ name: "http", containerPort: config.containerPort, protocol: "TCP" }],
              env: Object.entries(config.env ?? {}).map(([key, value]) => ({ name: key, value })),
              resources: {
                requests: { cpu: requests.cpu, memory: requests.memory },
                limits: { memory: limits.memory, ...(limits.cpu ? { cpu: limits.cpu } : {}) },
              },
              // The kubelet holds liveness and readiness back until start-up succeeds: up to 60 s here.
              startupProbe: { httpGet: httpGet(PROBE_PATHS.startup), periodSeconds: 2, failureThreshold: 30 },
              readinessProbe: {
                httpGet: httpGet(PROBE_PATHS.readiness),
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 2,
              },
              livenessProbe: {
                httpGet: httpGet(PROBE_PATHS.liveness),
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              // The native sleep action: endpoint removal reaches the load balancers while we still serve.
              lifecycle: { preStop: { sleep: { seconds: preStopSeconds } } },
              securityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
    },
  };

  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata,
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: "http", port: config.servicePort, targetPort: "http", protocol: "TCP" }],
    },
  };

  // One voluntary eviction at a time, at any scale: a drain always progresses, and never takes
  // more than one pod away. A stuck (unhealthy) pod may always go, or it blocks every drain.
  const podDisruptionBudget = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata,
    spec: { maxUnavailable: 1, selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
  };

  const autoscaler = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: config.replicas.min,
      maxReplicas: config.replicas.max,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: config.targetCpuPercent } },
        },
      ],
    },
  };

  // Shared objects (the selector, the metadata) are written out in full, not as YAML aliases.
  const objects = [deployment, service, podDisruptionBudget, autoscaler];
  return objects.map((object) => stringify(object, { aliasDuplicateObjects: false })).join("---\n");
}
