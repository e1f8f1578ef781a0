// Reference solution for the `saga` kata, orchestrator side: steps forward, compensations
// backward, every answer saved before the next call, every call idempotent by its key.

import type pg from "pg";
import { SagaStore, type SagaState } from "./saga-store";
import type {
  OrderToFulfil,
  SagaAction,
  SagaCompensation,
  SagaOutcome,
  SagaResults,
  SagaStatus,
  SagaStep,
  ServiceEndpoints,
} from "./saga-types";

export class SagaInterruptedError extends Error {
  readonly code = "ERR_SAGA_INTERRUPTED";

  constructor(
    readonly sagaId: string,
    readonly action: SagaAction,
    reason: string,
  ) {
    super(`saga ${sagaId} interrupted at ${action}: ${reason}`);
    this.name = "SagaInterruptedError";
  }
}

export interface OrderSagaOptions {
  readonly pool: pg.Pool;
  readonly endpoints: ServiceEndpoints;
  /** Attempts per call and run before the run is interrupted. Default 3. */
  readonly maxAttempts?: number;
  /** Wait before the first retry, doubled for each next one. Default 200. */
  readonly retryDelayMs?: number;
  /** A request without an answer after this long has an unknown outcome. Default 5 000. */
  readonly requestTimeoutMs?: number;
  readonly hooks?: {
    /** After the service answered (any answer), before it is saved. */
    afterServiceCall?(sagaId: string, action: SagaAction, status: number): Promise<void> | void;
  };
}

const STEPS: readonly SagaStep[] = ["reserve-stock", "charge-payment", "schedule-shipping"];
const COMPENSATIONS: Readonly<Partial<Record<SagaStep, SagaCompensation>>> = {
  "reserve-stock": "release-stock",
  "charge-payment": "refund-payment",
};
// Answers that say nothing about whether the work happened: ask again, with the same key.
const UNKNOWN_OUTCOME = new Set([408, 409, 425, 429]);
// Printable ASCII: what a Structured Field String can carry.
const SAGA_ID = /^[\x20-\x7e]{1,200}$/;

type Answer =
  | { readonly refused: false; readonly body: Record<string, unknown> }
  | { readonly refused: true; readonly status: number };

interface ServiceRequest {
  readonly url: string;
  readonly body: unknown;
}

function outcomeOf(state: SagaState): SagaOutcome {
  return {
    sagaId: state.sagaId,
    status: state.status as SagaOutcome["status"],
    results: state.results,
    failedStep: state.failedStep,
  };
}

/** What a successful step answered, under the name the saga keeps it. */
function resultOf(step: SagaStep, body: Record<string, unknown>): SagaResults {
  const field = step === "reserve-stock" ? "reservationId" : step === "charge-payment" ? "chargeId" : "shipmentId";
  const value = body[field];
  // Stryker disable next-line all: the fake services keep their contract; this guards against one that does not
  if (typeof value !== "string" || value.length === 0) throw new TypeError(`${step} answered without a ${field}`);
  return { [field]: value };
}

export class OrderSaga {
  private readonly store: SagaStore;

  constructor(private readonly options: OrderSagaOptions) {
    this.store = new SagaStore(options.pool);
  }

  /** Creates the saga state table(s) unless they exist. */
  async migrate(): Promise<void> {
    await this.store.migrate();
  }

  /** Runs the saga `sagaId` for `order` to completion or full compensation. */
  async start(sagaId: string, order: OrderToFulfil): Promise<SagaOutcome> {
    if (!SAGA_ID.test(sagaId)) throw new RangeError("a saga id is 1 to 200 printable ASCII characters");
    return this.drive(await this.store.create(sagaId, order));
  }

  /** Drives every unfinished saga to its end; answers their outcomes. */
  async resume(): Promise<SagaOutcome[]> {
    const outcomes: SagaOutcome[] = [];
    for (const state of await this.store.unfinished()) outcomes.push(await this.drive(state));
    return outcomes;
  }

  /** Where the saga stands, or undefined for an unknown id. */
  async status(sagaId: string): Promise<SagaStatus | undefined> {
    return (await this.store.load(sagaId))?.status;
  }

  private async drive(initial: SagaState): Promise<SagaOutcome> {
    let state = initial;
    while (state.status === "running" || state.status === "compensating") {
      const next = state.status === "running" ? await this.forward(state) : await this.backward(state);
      // Another orchestrator saved first: carry on from what it saved. The call we made was
      // idempotent, so repeating it from there is harmless.
      state = next ?? (await this.store.load(state.sagaId))!;
    }
    return outcomeOf(state);
  }

  private async forward(state: SagaState): Promise<SagaState | undefined> {
    const step = STEPS[state.done.length]!;
    const answer = await this.call(state, step);
    if (answer.refused) return this.store.update(state, { status: "compensating", failedStep: step });
    const done = [...state.done, step];
    return this.store.update(state, {
      done,
      results: { ...state.results, ...resultOf(step, answer.body) },
      status: done.length === STEPS.length ? "completed" : "running",
    });
  }

  private async backward(state: SagaState): Promise<SagaState | undefined> {
    const last = state.done.at(-1);
    // Nothing left to undo (the first step was refused, or the last compensation is saved).
    if (last === undefined) return this.store.update(state, { status: "compensated" });
    const compensation = COMPENSATIONS[last];
    // Only the last step has no compensation, and a saga that did the last step completed.
    // Stryker disable next-line ConditionalExpression: see above
    if (compensation !== undefined) await this.call(state, compensation);
    const done = state.done.slice(0, -1);
    return this.store.update(state, { done, status: done.length === 0 ? "compensated" : "compensating" });
  }

  /** One action over HTTP, retried on an unknown outcome; a refusal only ends a forward step. */
  private async call(state: SagaState, action: SagaAction): Promise<Answer> {
    const { maxAttempts = 3, retryDelayMs = 200, requestTimeoutMs = 5_000, hooks = {} } = this.options;
    const { url, body } = this.requestFor(state, action);
    // One key per saga and action, the same on every attempt and after every restart.
    const key = `"${`${state.sagaId}/${action}`.replace(/[\\"]/g, "\\$&")}"`;
    const isStep = !(action === "release-stock" || action === "refund-payment");
    // Stryker disable next-line StringLiteral: the reason is for people
    let reason = "";
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let answer: { status: number; ok: boolean; text: string } | undefined;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": key },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        answer = { status: response.status, ok: response.ok, text: await response.text() };
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
      if (answer !== undefined) {
        // Outside the try: a crash here must stop the run, not count as a failed attempt.
        await hooks.afterServiceCall?.(state.sagaId, action, answer.status);
        if (answer.ok) {
          return { refused: false, body: answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {} };
        }
        const { status } = answer;
        if (isStep && status >= 400 && status < 500 && !UNKNOWN_OUTCOME.has(status)) return { refused: true, status };
        // Stryker disable next-line StringLiteral: the reason is for people
        reason = `answered ${status}`;
      }
      // Stryker disable next-line all: the backoff only changes how long the retries wait
      if (attempt < maxAttempts) await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
    }
    throw new SagaInterruptedError(state.sagaId, action, reason);
  }

  private requestFor(state: SagaState, action: SagaAction): ServiceRequest {
    const { inventory, payments, shipping } = this.options.endpoints;
    const { order, results } = state;
    const at = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`;
    switch (action) {
      case "reserve-stock":
        return { url: at(inventory, "/reservations"), body: { orderId: order.orderId, items: order.items } };
      case "charge-payment":
        return {
          url: at(payments, "/charges"),
          body: { orderId: order.orderId, customerId: order.customerId, amountCents: order.amountCents },
        };
      case "schedule-shipping":
        return {
          url: at(shipping, "/shipments"),
          body: { orderId: order.orderId, reservationId: results.reservationId, address: order.address },
        };
      // A compensation only runs for a step that succeeded, so its id is there.
      case "release-stock":
        return { url: at(inventory, `/reservations/${encodeURIComponent(results.reservationId!)}/release`), body: {} };
      case "refund-payment":
        return { url: at(payments, `/charges/${encodeURIComponent(results.chargeId!)}/refund`), body: {} };
    }
  }
}
