/**
 * The order events the shop's services exchange, in CloudEvents 1.0.2 form (structured mode:
 * the whole event is one JSON object). Shared by the katas of this week; the zod schemas that
 * check them are yours to write in event-envelope.ts.
 *
 * Event types carry their version. `order.placed` changed shape once:
 * - v1 (still emitted by the old checkout): `amountCents`, an integer in euro cents, because
 *   the shop only sold in euros then;
 * - v2: `total`, an amount in minor units with its ISO 4217 currency.
 * A v1 event upcast to v2 is the same event (same id, source and other attributes) with
 * `type` = ORDER_PLACED_V2 and `data.total = { amountMinor: amountCents, currency: "EUR" }`.
 */

export const ORDER_PLACED_V1 = "com.example.shop.order.placed.v1";
export const ORDER_PLACED_V2 = "com.example.shop.order.placed.v2";
export const ORDER_CANCELLED_V1 = "com.example.shop.order.cancelled.v1";

/** The context attributes of a CloudEvent (spec v1.0.2, "Context Attributes"). */
export interface CloudEventAttributes {
  /** Always "1.0" for CloudEvents 1.0.x. */
  readonly specversion: "1.0";
  /** Unique within its source: source + id identify the event. Non-empty. */
  readonly id: string;
  /** A URI-reference naming where the event happened ("/checkout", "urn:shop:checkout", a URL). Non-empty. */
  readonly source: string;
  /** What happened, versioned here ("com.example.shop.order.placed.v2"). Non-empty. */
  readonly type: string;
  /** When it happened, as an RFC 3339 timestamp ("2026-03-01T12:00:00Z", "...T12:00:00.5+02:00"). */
  readonly time?: string;
  /** The media type of `data` ("application/json"). */
  readonly datacontenttype?: string;
  /** What the event is about, inside the source (the order id). */
  readonly subject?: string;
  /** Extension attributes (traceparent, partitionkey, ...): kept as they came. */
  readonly [extension: string]: unknown;
}

export interface CloudEvent<T extends string, D> extends CloudEventAttributes {
  readonly type: T;
  readonly data: D;
}

export interface OrderPlacedV1Data {
  readonly orderId: string;
  readonly customerId: string;
  /** Euro cents, a non-negative integer. */
  readonly amountCents: number;
}

export interface OrderPlacedV2Data {
  readonly orderId: string;
  readonly customerId: string;
  /** Minor units (cents) as a non-negative integer, and a three-letter ISO 4217 code ("EUR"). */
  readonly total: { readonly amountMinor: number; readonly currency: string };
}

export interface OrderCancelledData {
  readonly orderId: string;
  /** Why, in words; non-empty. */
  readonly reason: string;
}

export type OrderPlacedV1 = CloudEvent<typeof ORDER_PLACED_V1, OrderPlacedV1Data>;
export type OrderPlacedV2 = CloudEvent<typeof ORDER_PLACED_V2, OrderPlacedV2Data>;
export type OrderCancelled = CloudEvent<typeof ORDER_CANCELLED_V1, OrderCancelledData>;

/** Every event type this consumer understands, in every version. */
export type KnownEvent = OrderPlacedV1 | OrderPlacedV2 | OrderCancelled;
/** What handlers see: the latest version of each event type. */
export type LatestEvent = OrderPlacedV2 | OrderCancelled;

/** Written by the order service of the transactional-outbox kata when a line is added to an order. */
export const ORDER_LINE_ADDED_V1 = "com.example.shop.order.line-added.v1";
