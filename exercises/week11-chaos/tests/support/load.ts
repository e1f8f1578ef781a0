/**
 * An open-model load driver on loopback (the week 4 approach): requests leave on a fixed
 * schedule whatever the server does, so a server that stalls cannot slow the load down.
 * Each latency is measured from the moment its request left: the driver shares the process
 * (and a busy machine) with the server, and its own lag must not count against the server.
 * Bounded in count and in time: it stops by itself.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";

export interface Sample {
  readonly path: string;
  /** 0 when the request never completed before the deadline. */
  readonly status: number;
  readonly latencyMs: number;
  readonly retryAfter: string | undefined;
}

export interface LoadPlan {
  /** Requests in total. */
  readonly requests: number;
  /** Arrival rate. */
  readonly perSecond: number;
  /** The path of request i. */
  readonly path: (i: number) => string;
  /** How long after the last request is due to wait for stragglers. Default 10 s. */
  readonly graceMs?: number;
}

/** Serves `app` on an ephemeral loopback port for the duration of `use`, then closes it. */
export async function serving<T>(app: Express, use: (baseUrl: string) => Promise<T>): Promise<T> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Sends the plan's requests to `baseUrl` and returns one sample per request, in order. */
export async function drive(baseUrl: string, plan: LoadPlan): Promise<Sample[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const samples: Sample[] = new Array(plan.requests);
  const intervalMs = 1000 / plan.perSecond;
  let completed = 0;
  let wake: (() => void) | undefined;
  const start = performance.now();

  const send = (i: number) => {
    const due = performance.now();
    const path = plan.path(i);
    const finish = (status: number, retryAfter: string | undefined) => {
      if (samples[i]) return;
      samples[i] = { path, status, latencyMs: performance.now() - due, retryAfter };
      if (++completed === plan.requests) wake?.();
    };
    const request = http.get(`${baseUrl}${path}`, { agent }, (response) => {
      response.resume();
      response.on("end", () => finish(response.statusCode ?? 0, response.headers["retry-after"]));
      response.on("error", () => finish(0, undefined));
    });
    request.on("error", () => finish(0, undefined));
  };

  try {
    let sent = 0;
    while (sent < plan.requests) {
      const dueNow = Math.min(plan.requests, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < dueNow) send(sent++);
      if (sent < plan.requests) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (completed < plan.requests) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        const timer = setTimeout(resolve, plan.graceMs ?? 10_000);
        const done = wake;
        wake = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  } finally {
    agent.destroy();
  }
  for (let i = 0; i < plan.requests; i++)
    samples[i] ??= {
      path: plan.path(i),
      status: 0,
      latencyMs: Number.POSITIVE_INFINITY,
      retryAfter: undefined,
    };
  return samples;
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * A dependency with `capacity` workers, each busy `serviceMs` per call, and an unbounded line
 * in front of them (a database pool with no limit on its waiters). Over capacity, every
 * caller waits longer and longer: exactly what a bulkhead in front of it must prevent.
 */
export interface LimitedDependency {
  call(): Promise<void>;
  /** The longest the line in front of the workers has been. */
  peakWaiting(): number;
}

export function limitedDependency(capacity: number, serviceMs: number): LimitedDependency {
  let busy = 0;
  let peak = 0;
  const line: (() => void)[] = [];
  const serve = (done: () => void) => {
    busy++;
    setTimeout(() => {
      busy--;
      done();
      const next = line.shift();
      if (next) serve(next);
    }, serviceMs);
  };
  return {
    call: () =>
      new Promise<void>((resolve) => {
        if (busy < capacity) serve(resolve);
        else {
          line.push(resolve);
          peak = Math.max(peak, line.length);
        }
      }),
    peakWaiting: () => peak,
  };
}
