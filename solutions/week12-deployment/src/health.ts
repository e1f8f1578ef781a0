// Reference solution for the `health-probes` kata: liveness that checks the process only,
// readiness that checks dependencies under their own timeouts behind a short cache, and a
// start-up gate.

import { Router, type Response } from "express";
import { type Clock, systemClock } from "./clock";
import { PROBE_PATHS } from "./probe-paths";

export type CheckStatus = "ok" | "fail" | "timeout";

export interface HealthCheck {
  /** Shown in the readiness body: "postgres", "redis". */
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or throws) when it does not. Honour the signal. */
  check(signal: AbortSignal): Promise<void>;
  /** This check's own timeout; defaults to the options' defaultTimeoutMs. */
  readonly timeoutMs?: number;
}

export interface HealthOptions {
  readonly checks: readonly HealthCheck[];
  /** How long an evaluation is reused, in ms. Default 1000. */
  readonly cacheTtlMs?: number;
  /** Timeout of a check that sets none, in ms. Default 1000. */
  readonly defaultTimeoutMs?: number;
  /** Where the cache reads the time; defaults to the wall clock. */
  readonly clock?: Clock;
  /** Told about every failed or timed-out check, with the error (for logs, never for bodies). */
  readonly onCheckFailure?: (name: string, status: Exclude<CheckStatus, "ok">, error: unknown) => void;
}

export interface ProbeBody {
  readonly status: "ok" | "fail" | "starting" | "draining";
  readonly checks?: Readonly<Record<string, CheckStatus>>;
}

export interface Health {
  /** Mount it at the root of the app: app.use(health.router). */
  readonly router: Router;
  /** Start-up is done: /startupz turns 200 and /readyz starts checking. */
  markStarted(): void;
  /** Shutdown has begun: /readyz answers 503 from now on, without checking anything. */
  markDraining(): void;
}

interface Evaluation {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, CheckStatus>>;
  readonly finishedAt: number;
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new RangeError(`${name} must be a positive number of ms`);
  }
  return value;
}

class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** Runs one check under its own deadline; never rejects. */
function runCheck(
  check: HealthCheck,
  timeoutMs: number,
  report: HealthOptions["onCheckFailure"],
): Promise<CheckStatus> {
  const controller = new AbortController();
  return new Promise<CheckStatus>((resolve) => {
    let settled = false;
    const settle = (status: CheckStatus, error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (status !== "ok") report?.(check.name, status, error);
      resolve(status);
    };
    const timer = setTimeout(() => {
      const error = new TimeoutError(timeoutMs);
      // Abort first, so a check that honours its signal releases its socket or query now.
      controller.abort(error);
      settle("timeout", error);
    }, timeoutMs);
    // A synchronous throw counts as a failure too; a late result is ignored by `settled`.
    Promise.resolve()
      .then(() => check.check(controller.signal))
      .then(
        () => settle("ok"),
        (error: unknown) => settle("fail", error),
      );
  });
}

/** Builds the three probe endpoints over the given dependency checks. */
export function createHealth(options: HealthOptions): Health {
  const clock = options.clock ?? systemClock;
  const ttl = positive("cacheTtlMs", options.cacheTtlMs ?? 1_000, true);
  const defaultTimeout = positive("defaultTimeoutMs", options.defaultTimeoutMs ?? 1_000);
  const names = new Set<string>();
  const checks = options.checks.map((check) => {
    if (check.name === "" || names.has(check.name)) {
      throw new RangeError(`check names must be unique and non-empty: ${JSON.stringify(check.name)}`);
    }
    names.add(check.name);
    return { check, timeoutMs: positive(`timeoutMs of ${check.name}`, check.timeoutMs ?? defaultTimeout) };
  });

  let started = false;
  let draining = false;
  let cached: Evaluation | undefined;
  let inFlight: Promise<Evaluation> | undefined;

  const evaluate = async (): Promise<Evaluation> => {
    const report = options.onCheckFailure;
    const statuses = await Promise.all(checks.map(({ check, timeoutMs }) => runCheck(check, timeoutMs, report)));
    const result: Record<string, CheckStatus> = {};
    checks.forEach(({ check }, i) => (result[check.name] = statuses[i]!));
    return { ok: statuses.every((s) => s === "ok"), checks: result, finishedAt: clock.now() };
  };

  /** The cached evaluation while fresh; otherwise the one running, or a new one. */
  const readiness = (): Promise<Evaluation> => {
    if (cached && clock.now() - cached.finishedAt < ttl) return Promise.resolve(cached);
    inFlight ??= evaluate().then((evaluation) => {
      cached = evaluation;
      inFlight = undefined;
      return evaluation;
    });
    return inFlight;
  };

  const send = (res: Response, code: number, body: ProbeBody) => {
    // A cached probe answer in a proxy would hide the state change it exists to report.
    res.status(code).set("Cache-Control", "no-store").json(body);
  };

  const router = Router();
  router.get(PROBE_PATHS.liveness, (_req, res) => send(res, 200, { status: "ok" }));
  router.get(PROBE_PATHS.startup, (_req, res) => {
    if (started) send(res, 200, { status: "ok" });
    else send(res, 503, { status: "starting" });
  });
  router.get(PROBE_PATHS.readiness, async (_req, res) => {
    if (!started) return send(res, 503, { status: "starting", checks: {} });
    if (draining) return send(res, 503, { status: "draining", checks: {} });
    const evaluation = await readiness();
    // The drain may have begun while the checks ran: it wins.
    if (draining) return send(res, 503, { status: "draining", checks: {} });
    send(res, evaluation.ok ? 200 : 503, { status: evaluation.ok ? "ok" : "fail", checks: evaluation.checks });
  });

  return {
    router,
    markStarted: () => {
      started = true;
    },
    markDraining: () => {
      draining = true;
    },
  };
}
