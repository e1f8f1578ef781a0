/**
 * What the repositories tests share: orders to save, and the checks of a lost race.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { ConcurrencyError } from "../../src/errors";
import type { Order, OrderStatus } from "../../src/order";

/** A never-saved order (version 0) with a fresh id; fields can be overridden. */
export function newOrder(overrides: Partial<Order> = {}): Order {
  return {
    id: `ord-${randomUUID()}`,
    customerId: "cus-42",
    status: "pending",
    lines: [
      { sku: "KB-101", quantity: 2, unitPriceCents: 4_999 },
      { sku: "CABLE-1", quantity: 3, unitPriceCents: 250 },
    ],
    totalCents: 10_748,
    createdAt: new Date("2026-02-03T09:30:00.123Z"),
    updatedAt: new Date("2026-02-03T09:30:00.123Z"),
    version: 0,
    ...overrides,
  };
}

/** The same order in another status, one minute later, at the version it was read. */
export const withStatus = (order: Order, status: OrderStatus): Order => ({
  ...order,
  status,
  updatedAt: new Date(order.updatedAt.getTime() + 60_000),
});

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the save to be rejected, but it resolved");
}

/** The save was refused as a lost race: the domain's ConcurrencyError, naming the order and the version read. */
export async function expectConflict(promise: Promise<unknown>, order: Order): Promise<void> {
  const error = await rejectionOf(promise);
  expect(
    error,
    "a lost race must surface as the domain's ConcurrencyError, not as a driver error or a silent overwrite",
  ).toBeInstanceOf(ConcurrencyError);
  const conflict = error as ConcurrencyError;
  expect({ code: conflict.code, orderId: conflict.orderId, expectedVersion: conflict.expectedVersion }).toEqual({
    code: "CONCURRENCY_CONFLICT",
    orderId: order.id,
    expectedVersion: order.version,
  });
}

/**
 * Checks the outcome of saves that raced from the same version: exactly one won, and every
 * other one lost with ConcurrencyError (a driver error such as 23505 or 40001 is a lost race
 * too, but in the database's words, not the domain's). Returns the winner.
 */
export function expectOneWinner(results: PromiseSettledResult<Order>[], why: string): Order {
  const won = results.filter((r): r is PromiseFulfilledResult<Order> => r.status === "fulfilled");
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(won.length, `${won.length} of ${results.length} concurrent saves succeeded: ${why}`).toBe(1);
  for (const loser of lost) {
    expect(
      loser.reason,
      "a lost race reaches the caller as ConcurrencyError, whatever the database said (0 rows, 23505 unique_violation, 40001 serialization_failure)",
    ).toBeInstanceOf(ConcurrencyError);
  }
  return won[0]!.value;
}
