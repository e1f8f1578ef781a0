import { InvalidTransitionError, NotFoundError, ValidationError, type ValidationIssue } from "./errors";
import { ORDER_LIMITS, type Order, type OrderLine, type OrderStatus } from "./order";
import type { Catalog, Clock, OrderRepository, OrderUseCases, PlaceOrderCommand } from "./ports";

/** What the service needs from the outside world: ports only, no framework, no driver. */
export interface OrderServiceDeps {
  readonly repository: OrderRepository;
  readonly catalog: Catalog;
  readonly clock: Clock;
  /** A fresh, unique order id (crypto.randomUUID in production). */
  readonly newId: () => string;
}

/**
 * The moves each status allows; anything else is an InvalidTransitionError. A table rather
 * than if-chains, so the whole life cycle reads in one place and a new status is one row.
 */
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ["paid", "cancelled"],
  paid: ["shipped"],
  shipped: [],
  cancelled: [],
};

/** The order use cases: business rules over injected ports. */
export class OrderService implements OrderUseCases {
  constructor(private readonly deps: OrderServiceDeps) {}

  /** Validates the command, prices it from the catalogue and stores a new pending order. */
  async placeOrder(command: PlaceOrderCommand): Promise<Order> {
    // Shape first: a malformed command must not cost a catalogue round trip.
    const shapeIssues = checkCommand(command);
    if (shapeIssues.length > 0) throw new ValidationError(shapeIssues);

    const prices = await this.deps.catalog.pricesOf(command.lines.map((line) => line.sku));
    const issues: ValidationIssue[] = [];
    const lines: OrderLine[] = [];
    let totalCents = 0;
    command.lines.forEach((line, index) => {
      const unitPriceCents = prices.get(line.sku);
      if (unitPriceCents === undefined) {
        issues.push({ pointer: `/lines/${index}/sku`, detail: "is not a product the catalogue sells" });
        return;
      }
      // Copy the fields we know: an untyped caller's extra properties never reach storage.
      lines.push({ sku: line.sku, quantity: line.quantity, unitPriceCents });
      totalCents += unitPriceCents * line.quantity;
    });
    if (issues.length > 0) throw new ValidationError(issues);
    // Prices are non-negative, so once any product or partial sum leaves the safe range the
    // final sum is outside it too: one check at the end catches every lost cent.
    if (!Number.isSafeInteger(totalCents)) {
      throw new ValidationError([{ pointer: "/lines", detail: "add up to more than can be charged exactly" }]);
    }

    const now = new Date(this.deps.clock.now());
    return this.deps.repository.save({
      id: this.deps.newId(),
      customerId: command.customerId,
      status: "pending",
      lines,
      totalCents,
      createdAt: now,
      updatedAt: now,
      version: 0,
    });
  }

  /** The order with this id; NotFoundError when there is none. */
  async getOrder(id: string): Promise<Order> {
    const order = await this.deps.repository.findById(id);
    if (!order) throw new NotFoundError(id);
    return order;
  }

  /** pending → cancelled. */
  cancelOrder(id: string): Promise<Order> {
    return this.moveTo(id, "cancelled");
  }

  /** pending → paid. */
  payOrder(id: string): Promise<Order> {
    return this.moveTo(id, "paid");
  }

  /** paid → shipped. */
  shipOrder(id: string): Promise<Order> {
    return this.moveTo(id, "shipped");
  }

  private async moveTo(id: string, to: OrderStatus): Promise<Order> {
    const order = await this.getOrder(id);
    if (!TRANSITIONS[order.status].includes(to)) throw new InvalidTransitionError(id, order.status, to);
    // The copy keeps the version it was read at, so the repository can refuse the save with
    // ConcurrencyError if someone else changed the order in between. No retry here: whether a
    // cancel still makes sense after a concurrent payment is the caller's decision.
    return this.deps.repository.save({ ...order, status: to, updatedAt: new Date(this.deps.clock.now()) });
  }
}

/**
 * Every rule the command breaks on its own, before anything is looked up. The service checks
 * the shape even though the HTTP edge did too: a queue consumer or a script calls it without
 * that edge, and the invariants must hold whoever the caller is.
 */
function checkCommand(command: PlaceOrderCommand): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { customerId, lines } = command;

  if (!isIdentifier(customerId)) {
    issues.push({
      pointer: "/customerId",
      detail: `must be 1 to ${ORDER_LIMITS.maxIdLength} characters, not all blank`,
    });
  }
  if (!Array.isArray(lines) || lines.length === 0) {
    issues.push({ pointer: "/lines", detail: "must list at least one product" });
    return issues;
  }
  if (lines.length > ORDER_LIMITS.maxLines) {
    issues.push({ pointer: "/lines", detail: `must not have more than ${ORDER_LIMITS.maxLines} lines` });
  }

  const seen = new Set<string>();
  (lines as readonly unknown[]).forEach((item, index) => {
    // An untyped caller (a queue consumer parsing JSON) can send null or a string as a line:
    // that is one more issue to report, not a TypeError that turns into a 500.
    if (typeof item !== "object" || item === null) {
      issues.push({ pointer: `/lines/${index}`, detail: "must be an object with a sku and a quantity" });
      return;
    }
    const line = item as { sku?: unknown; quantity?: unknown };
    if (!isIdentifier(line.sku)) {
      issues.push({
        pointer: `/lines/${index}/sku`,
        detail: `must be 1 to ${ORDER_LIMITS.maxIdLength} characters, not all blank`,
      });
    } else if (seen.has(line.sku)) {
      issues.push({
        pointer: `/lines/${index}/sku`,
        detail: "appears on an earlier line; put the whole quantity on one line",
      });
    } else {
      seen.add(line.sku);
    }
    const quantity = line.quantity as number;
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > ORDER_LIMITS.maxQuantity) {
      issues.push({
        pointer: `/lines/${index}/quantity`,
        detail: `must be a whole number from 1 to ${ORDER_LIMITS.maxQuantity}`,
      });
    }
  });
  return issues;
}

function isIdentifier(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "" && value.length <= ORDER_LIMITS.maxIdLength;
}
