import express, { type Router } from "express";
import { CheckoutRejected, type RejectionReason } from "./domain";
import type { CheckoutRequest, CheckoutService } from "./service";

/** The legacy status of each refusal: clients have relied on these for years. */
const STATUS: Readonly<Record<RejectionReason, number>> = {
  "unknown-coupon": 422,
  "unknown-sku": 422,
  "out-of-stock": 409,
};

/** The request as the legacy endpoint checks it: the first problem found wins, with its message. */
export function parseCheckoutRequest(
  body: unknown,
): { ok: true; request: CheckoutRequest } | { ok: false; error: string } {
  const input = (body ?? {}) as { customerId?: unknown; items?: unknown; coupon?: unknown };
  if (typeof input.customerId !== "string" || input.customerId.trim() === "")
    return { ok: false, error: "customerId is required" };
  if (!Array.isArray(input.items) || input.items.length === 0)
    return { ok: false, error: "items must be a non-empty array" };
  const seen = new Set<string>();
  const items: { sku: string; quantity: number }[] = [];
  for (const item of input.items as { sku?: unknown; quantity?: unknown }[]) {
    if (typeof item?.sku !== "string" || item.sku === "") return { ok: false, error: "every item needs a sku" };
    const { sku, quantity } = item;
    if (!isWholeNumberIn(quantity, 1, 99))
      return { ok: false, error: `quantity of ${sku} must be a whole number from 1 to 99` };
    if (seen.has(sku)) return { ok: false, error: `${sku} appears twice` };
    seen.add(sku);
    items.push({ sku, quantity });
  }
  if (input.coupon !== undefined && typeof input.coupon !== "string")
    return { ok: false, error: "coupon must be a string" };
  return { ok: true, request: { customerId: input.customerId, items, coupon: input.coupon } };
}

/** POST /checkout over the service, answering with the legacy status codes and bodies. */
export function checkoutRouter(service: CheckoutService, report: (error: unknown) => void): Router {
  const router = express.Router();
  router.post("/checkout", express.json(), async (req, res) => {
    const parsed = parseCheckoutRequest(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: parsed.error });
      return;
    }
    try {
      const receipt = await service.checkout(parsed.request);
      res.status(201).location(`/orders/${receipt.orderId}`).json(receipt);
    } catch (error) {
      if (error instanceof CheckoutRejected) {
        res.status(STATUS[error.reason]).json({ error: error.message });
        return;
      }
      report(error);
      res.status(500).json({ error: "internal error" });
    }
  });
  return router;
}

function isWholeNumberIn(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}
