// Kata: saga (2 of 2: the orchestrator; the state is in saga-store.ts)
//
// Fulfilling an order takes three services, and no transaction spans them. An orchestrated
// saga runs the steps one by one (reserve stock, charge payment, schedule shipping; the HTTP
// contract is in saga-types.ts) and, when a step is refused, undoes the ones that succeeded
// with their compensations, newest first: refund the payment, then release the stock. Build
// OrderSaga:
// - start(sagaId, order) runs a saga to its end and answers its outcome; starting an id that
//   exists continues that saga (or answers its outcome) instead of starting another; the id
//   travels in a header, so it is 1 to 200 printable ASCII characters, or start() throws a
//   RangeError;
// - the state is saved (SagaStore) after every answer, before the next call, so a crash at
//   any point loses at most the answer of the call in progress;
// - every request carries `Idempotency-Key: "<key>"`, a Structured Field String, unique per
//   saga and action and the same on every attempt: a retry or a resumed saga repeats the
//   call and the service answers it from its memory instead of charging twice (mind the
//   escaping: inside a String, `"` and `\` are written `\"` and `\\`);
// - an unknown outcome (see saga-types.ts) is retried up to maxAttempts times in a run
//   (waiting retryDelayMs, doubled each time); after that the run stops with
//   SagaInterruptedError and the saga stays as saved, for resume() to continue later;
// - a refusal switches the saga to compensating (failedStep = the refused step) and runs the
//   compensations of the steps done, newest first; only steps that succeeded are undone;
// - resume() drives every unfinished saga (running or compensating) to its end, in the
//   direction it was going: a saga that was compensating keeps compensating;
// - hooks.afterServiceCall runs after a service answered, before that answer is saved. A
//   throw there simulates the process dying at that point: the run stops at once with that
//   error (it is not a failed step: no retry, no compensation) and saves nothing more.
//
// Tests: tests/saga.test.ts and tests/saga-failures.test.ts (`npm run check week9 saga`).
// Keep the exported names and signatures: the tests import them.

import type pg from "pg";
import { NotImplementedError } from "#kata";
import type { OrderToFulfil, SagaAction, SagaOutcome, SagaStatus, ServiceEndpoints } from "./saga-types";

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

export class OrderSaga {
  constructor(private readonly options: OrderSagaOptions) {}

  /** Creates the saga state table(s) unless they exist. */
  async migrate(): Promise<void> {
    // TODO: delegate to SagaStore.
    throw new NotImplementedError("saga");
  }

  /** Runs the saga `sagaId` for `order` to completion or full compensation. */
  async start(sagaId: string, order: OrderToFulfil): Promise<SagaOutcome> {
    // TODO: create (or find) the saga, then drive it.
    throw new NotImplementedError("saga");
  }

  /** Drives every unfinished saga to its end; answers their outcomes. */
  async resume(): Promise<SagaOutcome[]> {
    // TODO: SagaStore.unfinished(), then drive each one from where it stopped.
    throw new NotImplementedError("saga");
  }

  /** Where the saga stands, or undefined for an unknown id. */
  async status(sagaId: string): Promise<SagaStatus | undefined> {
    // TODO: SagaStore.load.
    throw new NotImplementedError("saga");
  }
}
