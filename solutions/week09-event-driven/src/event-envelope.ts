// Reference solution for the `event-envelope` kata: a tolerant reader for CloudEvents 1.0.2.
// Strict where a mistake would corrupt data (required attributes, time, the data of a known
// type), lenient where the producer is allowed to grow (extensions, new data fields, new types).

import { z } from "zod";
import {
  type KnownEvent,
  type LatestEvent,
  type OrderCancelled,
  type OrderPlacedV1,
  type OrderPlacedV2,
  ORDER_CANCELLED_V1,
  ORDER_PLACED_V1,
  ORDER_PLACED_V2,
} from "./events";

/** Why an input did not reach a handler. */
export type RejectionReason = "invalid-envelope" | "unknown-type" | "invalid-data";

export type ParseResult =
  | { readonly ok: true; readonly event: LatestEvent }
  | { readonly ok: false; readonly reason: RejectionReason; readonly issues: readonly string[] };

/** One handler per latest event type. */
export interface EventHandlers {
  "com.example.shop.order.placed.v2"(event: OrderPlacedV2): Promise<void> | void;
  "com.example.shop.order.cancelled.v1"(event: OrderCancelled): Promise<void> | void;
}

/** What the dead-letter sink receives: the input as it came, and why it was set aside. */
export interface DeadLetter {
  readonly input: unknown;
  readonly reason: RejectionReason;
  readonly issues: readonly string[];
}

/** The identities already handled (a Set<string> will do in memory; Redis or a table in production). */
export interface IdentityStore {
  has(identity: string): boolean | Promise<boolean>;
  add(identity: string): unknown;
}

export interface EventConsumerOptions {
  readonly handlers: EventHandlers;
  readonly deadLetter: (letter: DeadLetter) => Promise<void> | void;
  readonly seen: IdentityStore;
}

export type ConsumeOutcome = "handled" | "duplicate" | "dead-lettered";

export interface EventConsumer {
  /** Validates, deduplicates and dispatches one delivered event (already JSON-parsed). */
  consume(input: unknown): Promise<ConsumeOutcome>;
}

// RFC 3986 characters (unreserved, reserved, and '%' for pct-encoding); a scheme, when there
// is one, is a letter followed by letters, digits, '+', '-' or '.'.
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

function isUriReference(value: string): boolean {
  if (!URI_CHARACTERS.test(value)) return false;
  const colon = value.indexOf(":");
  if (colon === -1) return true;
  const firstDelimiter = value.search(/[/?#]/);
  // A colon before any '/', '?' or '#' ends a scheme; a relative reference cannot have one there.
  if (firstDelimiter !== -1 && firstDelimiter < colon) return true;
  return SCHEME.test(value.slice(0, colon));
}

const nonEmpty = z.string().min(1);
// zod's ISO check validates calendar dates (no 30 February) and requires the offset with its colon.
const rfc3339 = z.iso.datetime({ offset: true });

const envelopeSchema = z.looseObject({
  specversion: z.literal("1.0"),
  id: nonEmpty,
  // Stryker disable next-line StringLiteral: the wording is for people
  source: nonEmpty.refine(isUriReference, "source must be a URI-reference"),
  type: nonEmpty,
  time: rfc3339.optional(),
  datacontenttype: nonEmpty.optional(),
  subject: nonEmpty.optional(),
  dataschema: nonEmpty.optional(),
});

const minorUnits = z.number().int().nonnegative();
// Stryker disable next-line StringLiteral: zod finds the discriminator by itself; naming it is for readers
const eventSchema = z.discriminatedUnion("type", [
  envelopeSchema.extend({
    type: z.literal(ORDER_PLACED_V1),
    data: z.looseObject({ orderId: nonEmpty, customerId: nonEmpty, amountCents: minorUnits }),
  }),
  envelopeSchema.extend({
    type: z.literal(ORDER_PLACED_V2),
    data: z.looseObject({
      orderId: nonEmpty,
      customerId: nonEmpty,
      total: z.looseObject({ amountMinor: minorUnits, currency: z.string().regex(/^[A-Z]{3}$/) }),
    }),
  }),
  envelopeSchema.extend({
    type: z.literal(ORDER_CANCELLED_V1),
    data: z.looseObject({ orderId: nonEmpty, reason: nonEmpty }),
  }),
]);

const KNOWN_TYPES: ReadonlySet<string> = new Set([ORDER_PLACED_V1, ORDER_PLACED_V2, ORDER_CANCELLED_V1]);

function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${issue.path.join(".") || "(event)"}: ${issue.message}`);
}

/** Validates a CloudEvents 1.0 envelope and its data; a valid event comes back in its latest version. */
export function parseEvent(input: unknown): ParseResult {
  // The envelope first, on its own: only a valid envelope can be told apart as "unknown type".
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) {
    return { ok: false, reason: "invalid-envelope", issues: describeIssues(envelope.error.issues) };
  }
  if (!KNOWN_TYPES.has(envelope.data.type)) {
    const issues = [`type: no handler knows ${JSON.stringify(envelope.data.type)}`];
    return { ok: false, reason: "unknown-type", issues };
  }
  const event = eventSchema.safeParse(input);
  if (!event.success) return { ok: false, reason: "invalid-data", issues: describeIssues(event.error.issues) };
  return { ok: true, event: upcast(event.data as KnownEvent) };
}

/** Turns any known version into the latest one; attributes other than type and data stay as they were. */
export function upcast(event: KnownEvent): LatestEvent {
  if (event.type !== ORDER_PLACED_V1) return event;
  const { data, ...attributes } = event as OrderPlacedV1;
  const upcasted: OrderPlacedV2 = {
    ...attributes,
    type: ORDER_PLACED_V2,
    data: {
      orderId: data.orderId,
      customerId: data.customerId,
      total: { amountMinor: data.amountCents, currency: "EUR" },
    },
  };
  return upcasted;
}

/** The deduplication identity of an event: its source and id, unambiguously combined. */
export function eventIdentity(event: { readonly source: string; readonly id: string }): string {
  // JSON quotes and escapes both parts, so no separator inside either can make two pairs collide.
  return JSON.stringify([event.source, event.id]);
}

/** A consumer that never crashes on what it cannot handle and handles each event once. */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { handlers, deadLetter, seen } = options;
  return {
    async consume(input) {
      const parsed = parseEvent(input);
      if (!parsed.ok) {
        await deadLetter({ input, reason: parsed.reason, issues: parsed.issues });
        return "dead-lettered";
      }
      const event = parsed.event;
      const identity = eventIdentity(event);
      if (await seen.has(identity)) return "duplicate";
      if (event.type === ORDER_PLACED_V2) await handlers[ORDER_PLACED_V2](event);
      else await handlers[ORDER_CANCELLED_V1](event);
      // Remembered only after the handler succeeded: a failure must leave the redelivery to run.
      await seen.add(identity);
      return "handled";
    },
  };
}
