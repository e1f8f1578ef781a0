/**
 * Kata untangle-legacy, the http layer: the express router of the checkout. It parses and
 * checks the request exactly as the legacy handler does (the first problem wins, 400 with the
 * legacy message), calls the service, and maps its outcome to the legacy responses:
 * 201 + Location /orders/<id> with the receipt; a refused checkout as { error: message } with
 * 422 (unknown coupon, unknown sku) or 409 (out of stock); anything else is reported and
 * answered 500 { error: "internal error" }. No SQL and no pricing here.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import type { Router } from "express";
import { NotImplementedError } from "#kata";
import type { CheckoutRequest, CheckoutService } from "./service";

/** The request as the legacy endpoint checks it: the first problem found wins, with its message. */
export function parseCheckoutRequest(
  body: unknown,
): { ok: true; request: CheckoutRequest } | { ok: false; error: string } {
  // TODO: the validation block of the legacy handler, returning instead of answering.
  throw new NotImplementedError("untangle-legacy");
}

/** POST /checkout over the service, answering with the legacy status codes and bodies. */
export function checkoutRouter(service: CheckoutService, report: (error: unknown) => void): Router {
  // TODO: express.Router() with router.post("/checkout", express.json(), …).
  throw new NotImplementedError("untangle-legacy");
}
