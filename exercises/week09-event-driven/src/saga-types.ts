/**
 * The order saga's domain, and the HTTP contract of the three services it orchestrates.
 * Shared by saga-store.ts and order-saga.ts.
 *
 * Every request is a POST with a JSON body (Content-Type: application/json), and carries
 * `Idempotency-Key: "<key>"` (a Structured Field String),
 * one key per saga and action, the same on every retry and after every restart, so a
 * service that already did the work answers with its first answer instead of doing it again.
 *
 * Inventory:
 *   POST {inventory}/reservations {orderId, items} -> 201 {reservationId} | 422 not enough stock
 *   POST {inventory}/reservations/{reservationId}/release {} -> 200
 * Payments:
 *   POST {payments}/charges {orderId, customerId, amountCents} -> 201 {chargeId} | 402 declined
 *   POST {payments}/charges/{chargeId}/refund {} -> 200
 * Shipping:
 *   POST {shipping}/shipments {orderId, reservationId, address} -> 201 {shipmentId} | 422 undeliverable
 *
 * What an answer means:
 * - 2xx: done;
 * - 408, 409 (the service's own "that key is still in flight"), 425, 429, any 5xx, a network
 *   error or no answer within the request timeout: unknown, try again with the same key;
 * - any other 4xx: a definite refusal of a step; the saga compensates.
 * A compensation has no refusal: it is retried until it answers 2xx.
 */

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface OrderToFulfil {
  readonly orderId: string;
  readonly customerId: string;
  readonly items: readonly OrderLine[];
  readonly amountCents: number;
  readonly address: string;
}

/** Base URLs of the three services ("http://127.0.0.1:43121"). */
export interface ServiceEndpoints {
  readonly inventory: string;
  readonly payments: string;
  readonly shipping: string;
}

/** The forward steps, in order. */
export type SagaStep = "reserve-stock" | "charge-payment" | "schedule-shipping";
/** The compensations: release-stock undoes reserve-stock, refund-payment undoes charge-payment. */
export type SagaCompensation = "release-stock" | "refund-payment";
export type SagaAction = SagaStep | SagaCompensation;

/**
 * running: going forward; compensating: undoing what succeeded, newest first;
 * completed and compensated are final.
 */
export type SagaStatus = "running" | "compensating" | "completed" | "compensated";

/** What the services answered along the way. */
export interface SagaResults {
  readonly reservationId?: string;
  readonly chargeId?: string;
  readonly shipmentId?: string;
}

export interface SagaOutcome {
  readonly sagaId: string;
  readonly status: "completed" | "compensated";
  readonly results: SagaResults;
  /** For a compensated saga: the step that was refused. */
  readonly failedStep?: SagaStep;
}
