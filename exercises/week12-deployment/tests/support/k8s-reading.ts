/** Reading the meaning out of rendered manifests: quantities, int-or-percent values, ports. */
import { parseAllDocuments } from "yaml";

export type Obj = Record<string, any>;

/** Every YAML document as plain data (aliases and anchors resolved); fails on a YAML error. */
export function parseDocuments(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((doc, i) => {
      if (doc.errors.length > 0) throw new Error(`YAML document ${i + 1}: ${doc.errors[0]!.message}`);
      return doc.toJS({ maxAliasCount: 1_000 }) as Obj;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

const DECIMAL: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes resource.Quantity ("250m", "0.5", "256Mi", "1e3") as a number of units. */
export function quantity(value: unknown): number {
  const text = String(value);
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(text);
  if (!match) return Number.NaN;
  const [, number, suffix = ""] = match;
  return Number(number) * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

/** An IntOrString such as maxUnavailable against a replica count; percentages round up, as for PDBs. */
export function scaled(value: unknown, replicas: number): number {
  if (typeof value === "number") return value;
  const percent = /^(\d+)%$/.exec(String(value));
  if (percent) return Math.ceil((Number(percent[1]) * replicas) / 100);
  return /^\d+$/.test(String(value)) ? Number(value) : Number.NaN;
}

/** A port given by number or by the name of one of the container's ports. */
export function resolvePort(port: unknown, container: Obj): number | undefined {
  if (typeof port === "number") return port;
  const named = (container.ports ?? []).find((p: Obj) => p.name === port);
  return named?.containerPort ?? (/^\d+$/.test(String(port)) ? Number(port) : undefined);
}

/** Seconds a preStop hook sleeps: the sleep action, or an exec of sleep (directly or via sh -c). */
export function preStopSleepSeconds(container: Obj): number {
  const hook = container.lifecycle?.preStop;
  if (!hook) return 0;
  if (hook.sleep) return Number(hook.sleep.seconds);
  const command: string[] = hook.exec?.command ?? [];
  const text = command.join(" ");
  const match = /(?:^|[\s/])sleep\s+(\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Whether every label of `selector` is on `labels` (an empty selector selects everything). */
export const selects = (selector: Obj | undefined, labels: Obj | undefined) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);
