import { afterAll, describe, expect, it } from "vitest";
import { renderManifests, type ServiceDeployment } from "../src/k8s-manifests";
import { closeSchemaWorker, isDnsLabel, unknownFields, validateObject } from "./support/k8s-schema";
import {
  parseDocuments,
  preStopSleepSeconds,
  quantity,
  resolvePort,
  scaled,
  selects,
  type Obj,
} from "./support/k8s-reading";

const base: ServiceDeployment = {
  name: "orders",
  namespace: "shop",
  image: "ghcr.io/acme/orders:1.4.0@sha256:0d9f1e3b6b9b6f0b6a3c3e6f3a0b8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b",
  version: "1.4.0",
  containerPort: 8080,
  servicePort: 80,
  replicas: { min: 3, max: 10 },
  targetCpuPercent: 70,
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  shutdown: { preStopSeconds: 5, drainSeconds: 20 },
};
// The TypeScript program behind unknownFields takes seconds to build on a busy machine: start
// it now, in its worker thread, while the other tests run.
const warmUp = unknownFields("Deployment", {});
afterAll(async () => {
  await warmUp.catch(() => {});
  await closeSchemaWorker();
});

const config = (overrides: Partial<ServiceDeployment> = {}): ServiceDeployment => ({ ...base, ...overrides });

/** The four objects of one rendering, by kind; fails when one is missing or doubled. */
function render(c: ServiceDeployment = base) {
  const docs = parseDocuments(renderManifests(c));
  const one = (kind: string): Obj => {
    const found = docs.filter((d) => d.kind === kind);
    expect(found.length, `exactly one ${kind} in the YAML (found ${found.length})`).toBe(1);
    return found[0]!;
  };
  const deployment = one("Deployment");
  const pod = deployment.spec?.template?.spec ?? {};
  const containers: Obj[] = pod.containers ?? [];
  expect(containers.length, "one container in the pod").toBe(1);
  return {
    docs,
    deployment,
    service: one("Service"),
    pdb: one("PodDisruptionBudget"),
    hpa: one("HorizontalPodAutoscaler"),
    pod,
    podLabels: (deployment.spec?.template?.metadata?.labels ?? {}) as Obj,
    container: containers[0]!,
  };
}

describe("four objects that the Kubernetes API accepts", () => {
  it("renders a Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler at the right API versions", () => {
    const { docs } = render();
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`).sort()).toEqual([
      "apps/v1 Deployment",
      "autoscaling/v2 HorizontalPodAutoscaler",
      "policy/v1 PodDisruptionBudget",
      "v1 Service",
    ]);
    for (const doc of docs) {
      expect(doc.metadata?.name, `${doc.kind} is named after the app`).toBe("orders");
      expect(doc.metadata?.namespace, `${doc.kind} lives in the configured namespace`).toBe("shop");
    }
  });

  it("passes the Kubernetes schemas, with no field they do not know and valid names", { timeout: 60_000 }, async () => {
    for (const doc of render().docs) {
      expect(() => validateObject(doc.kind, doc), `${doc.kind} against the Kubernetes schema`).not.toThrow();
      expect(
        await unknownFields(doc.kind, doc),
        `${doc.kind}: the API server drops (or rejects) fields it does not know`,
      ).toEqual([]);
      expect(isDnsLabel(doc.metadata?.name), `${doc.kind} name ${doc.metadata?.name} must be a DNS-1123 label`).toBe(
        true,
      );
    }
  });
});

describe("selectors", () => {
  it("selects the pods by a non-empty selector that matches their labels, without the version", () => {
    const r1 = render();
    const r2 = render(config({ version: "1.5.0", image: "ghcr.io/acme/orders:1.5.0" }));
    expect(r1.podLabels["app.kubernetes.io/name"]).toBe("orders");
    expect(r1.podLabels["app.kubernetes.io/version"], "the release is a pod label: dashboards group by it").toBe(
      "1.4.0",
    );
    const selectors = (r: ReturnType<typeof render>) => ({
      deployment: r.deployment.spec?.selector?.matchLabels,
      service: r.service.spec?.selector,
      pdb: r.pdb.spec?.selector?.matchLabels,
    });
    for (const [owner, selector] of Object.entries(selectors(r1))) {
      expect(
        Object.keys(selector ?? {}).length,
        `the ${owner} selector must not be empty: an empty one matches every pod, or none`,
      ).toBeGreaterThan(0);
      expect(
        selects(selector, r1.podLabels),
        `the ${owner} selector ${JSON.stringify(selector)} matches no pod labels ${JSON.stringify(r1.podLabels)}`,
      ).toBe(true);
    }
    expect(r1.deployment.spec?.selector?.matchExpressions, "keep the selector to matchLabels here").toBeUndefined();
    expect(
      selectors(r2),
      "a Deployment's selector is immutable and a Service selecting one version drops the other mid-rollout: no version in selectors",
    ).toEqual(selectors(r1));
  });

  it("sends the Service's port to the container's port", () => {
    const { service, container } = render(config({ containerPort: 3000, servicePort: 8081 }));
    const ports: Obj[] = service.spec?.ports ?? [];
    expect(ports.length).toBe(1);
    expect(ports[0]!.port).toBe(8081);
    const target = resolvePort(ports[0]!.targetPort ?? ports[0]!.port, container);
    expect(target, "targetPort must reach containerPort, by number or by the port's name").toBe(3000);
    expect(container.ports?.find((p: Obj) => p.name === "http")?.containerPort, "a container port named http").toBe(
      3000,
    );
    expect(service.spec?.type ?? "ClusterIP").toBe("ClusterIP");
  });
});

describe("the container", () => {
  it("probes /startupz, /readyz and /livez on the container's port", () => {
    const { container } = render(config({ containerPort: 9090 }));
    for (const [probe, path] of [
      ["startupProbe", "/startupz"],
      ["readinessProbe", "/readyz"],
      ["livenessProbe", "/livez"],
    ] as const) {
      const httpGet = container[probe]?.httpGet;
      expect(
        httpGet?.path,
        `${probe} checks ${path} (health-probes): a liveness probe on /readyz restarts pods when the database is down`,
      ).toBe(path);
      expect(resolvePort(httpGet?.port, container), `${probe} must hit the port the app listens on`).toBe(9090);
    }
  });

  it("sets the image, the requests and the limits exactly as configured", () => {
    const { container } = render();
    expect(container.image).toBe(base.image);
    const resources = container.resources ?? {};
    expect(quantity(resources.requests?.cpu), "a CPU request: the scheduler and the HPA both need it").toBe(0.25);
    expect(quantity(resources.requests?.memory)).toBe(256 * 2 ** 20);
    expect(quantity(resources.limits?.memory), "a memory limit: a leak kills this pod, not its neighbours").toBe(
      512 * 2 ** 20,
    );
    expect(
      resources.limits?.cpu,
      "no cpu limit unless asked for: CPU limits throttle even an idle node",
    ).toBeUndefined();
    const withCpu = render(
      config({ resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "1Gi", cpu: "1500m" } } }),
    ).container.resources;
    expect(quantity(withCpu?.limits?.cpu)).toBe(1.5);
    expect(quantity(withCpu?.requests?.memory)).toBe(2 ** 30);
  });

  it("runs as a numeric non-root user on a read-only root filesystem, without privilege escalation or capabilities", () => {
    const { pod, container } = render();
    const sc = container.securityContext ?? {};
    const podSc = pod.securityContext ?? {};
    expect(
      sc.runAsNonRoot ?? podSc.runAsNonRoot,
      "runAsNonRoot: the kubelet refuses to start the container as root",
    ).toBe(true);
    const uid = sc.runAsUser ?? podSc.runAsUser;
    expect(
      Number.isInteger(uid) && uid > 0,
      `runAsUser ${uid}: runAsNonRoot can only verify a numeric, non-zero user`,
    ).toBe(true);
    expect(sc.readOnlyRootFilesystem, "an attacker who gets code execution cannot rewrite the app").toBe(true);
    expect(sc.allowPrivilegeEscalation, "no setuid way back to root").toBe(false);
    expect(sc.capabilities?.drop, "a web server needs no Linux capability").toContain("ALL");
    const tmp = (container.volumeMounts ?? []).find((m: Obj) => m.mountPath === "/tmp");
    expect(tmp, "a read-only root still needs a writable /tmp").toBeDefined();
    const volume = (pod.volumes ?? []).find((v: Obj) => v.name === tmp?.name);
    expect(volume?.emptyDir, "/tmp comes from an emptyDir volume").toBeDefined();
  });

  it("passes config.env to the container as name/value pairs", () => {
    const { container } = render(config({ env: { LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: "20000" } }));
    const env = Object.fromEntries((container.env ?? []).map((e: Obj) => [e.name, e.value]));
    expect(env).toEqual({ LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: "20000" });
  });
});

describe("stopping and rolling out without losing requests", () => {
  it("sleeps the preStop delay and grants more grace than the delay plus the drain", () => {
    for (const shutdown of [
      { preStopSeconds: 5, drainSeconds: 20 },
      { preStopSeconds: 10, drainSeconds: 40 },
      { preStopSeconds: 0, drainSeconds: 60 },
    ]) {
      const { pod, container } = render(config({ shutdown }));
      expect(
        preStopSleepSeconds(container),
        `preStop sleeps ${shutdown.preStopSeconds} s while endpoint removal propagates`,
      ).toBe(shutdown.preStopSeconds);
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      expect(
        grace,
        `grace ${grace} s must exceed preStop ${shutdown.preStopSeconds} s + drain ${shutdown.drainSeconds} s: the SIGKILL at its end cuts the drain off`,
      ).toBeGreaterThan(shutdown.preStopSeconds + shutdown.drainSeconds);
    }
  });

  it("rolls out with maxUnavailable 0 and a surge, so capacity never drops", () => {
    const strategy = render().deployment.spec?.strategy ?? {};
    expect(strategy.type ?? "RollingUpdate", "Recreate stops every pod first").toBe("RollingUpdate");
    const rolling = strategy.rollingUpdate ?? {};
    expect(
      scaled(rolling.maxUnavailable ?? "25%", base.replicas.min),
      "the default 25% takes pods away before new ones are ready",
    ).toBe(0);
    expect(
      scaled(rolling.maxSurge ?? "25%", base.replicas.min),
      "with nothing unavailable, only a surge lets the rollout progress",
    ).toBeGreaterThan(0);
  });

  it("lets the PDB allow a node drain at min replicas, one pod at a time, while keeping the others", () => {
    for (const min of [2, 3, 5]) {
      const { pdb } = render(config({ replicas: { min, max: min + 4 } }));
      const spec = pdb.spec ?? {};
      expect(
        spec.minAvailable === undefined || spec.maxUnavailable === undefined,
        "minAvailable and maxUnavailable exclude each other",
      ).toBe(true);
      const allowed =
        spec.minAvailable !== undefined
          ? min - scaled(spec.minAvailable, min)
          : Math.min(scaled(spec.maxUnavailable, min), min);
      expect(
        allowed,
        `at ${min} replicas the PDB must allow an eviction, or every node drain hangs`,
      ).toBeGreaterThanOrEqual(1);
      expect(allowed, `at ${min} replicas the PDB must keep at least one pod serving`).toBeLessThan(min);
    }
  });

  it("lets the HPA own the replica count, between min and max, on CPU utilisation", () => {
    const { deployment, hpa } = render(config({ replicas: { min: 4, max: 12 }, targetCpuPercent: 65 }));
    const replicas = deployment.spec?.replicas;
    expect(
      replicas === undefined || replicas === 4,
      `spec.replicas ${replicas}: every kubectl apply would reset what the HPA chose`,
    ).toBe(true);
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "orders" });
    expect(hpa.spec?.minReplicas).toBe(4);
    expect(hpa.spec?.maxReplicas).toBe(12);
    const cpu = (hpa.spec?.metrics ?? []).find((m: Obj) => m.type === "Resource" && m.resource?.name === "cpu");
    expect(cpu?.resource?.target, "scale on average CPU utilisation of the request").toEqual({
      type: "Utilization",
      averageUtilization: 65,
    });
  });
});

describe("invalid config", () => {
  it("refuses names, versions, replica counts, ports, targets and seconds that cannot work (RangeError)", () => {
    const bad: [string, Partial<ServiceDeployment>][] = [
      ["an upper-case name", { name: "Orders" }],
      ["an underscore", { name: "orders_api" }],
      ["a name of 64 characters", { name: "a".repeat(64) }],
      ["a name ending in '-'", { name: "orders-" }],
      ["a bad namespace", { namespace: "Shop" }],
      ["a version with '+'", { version: "1.4.0+build" }],
      ["a version of 64 characters", { version: "1".repeat(64) }],
      ["no image", { image: "" }],
      ["one replica", { replicas: { min: 1, max: 3 } }],
      ["max below min", { replicas: { min: 3, max: 2 } }],
      ["port 0", { containerPort: 0 }],
      ["port 70000", { servicePort: 70_000 }],
      ["0 % CPU", { targetCpuPercent: 0 }],
      ["150 % CPU", { targetCpuPercent: 150 }],
      ["negative seconds", { shutdown: { preStopSeconds: -1, drainSeconds: 20 } }],
      ["fractional seconds", { shutdown: { preStopSeconds: 5, drainSeconds: 2.5 } }],
    ];
    for (const [what, overrides] of bad) expect(() => renderManifests(config(overrides)), what).toThrow(RangeError);
    const fine: [string, Partial<ServiceDeployment>][] = [
      ["a name of 63 characters", { name: "a".repeat(63) }],
      ["a one-letter name and version", { name: "a", version: "1" }],
      ["ports 1 and 65535", { containerPort: 1, servicePort: 65_535 }],
      ["max equal to min", { replicas: { min: 2, max: 2 } }],
      ["1 % and 100 % CPU", { targetCpuPercent: 1 }],
      ["100 % CPU", { targetCpuPercent: 100 }],
      ["no preStop sleep", { shutdown: { preStopSeconds: 0, drainSeconds: 10 } }],
    ];
    for (const [what, overrides] of fine)
      expect(() => renderManifests(config(overrides)), `${what} is valid`).not.toThrow();
  });
});
