// Kata: event-envelope
//
// Services that exchange events agree on an envelope before they agree on anything else.
// CloudEvents 1.0.2 is that envelope: every event has an `id`, a `source`, a `specversion` of
// "1.0" and a `type`, all non-empty strings; it may have a `time` (an RFC 3339 timestamp), a
// `datacontenttype` and a `subject`; anything else is an extension attribute. The types and
// their versions are in events.ts. Build the consumer side:
// - parseEvent(input): validate with zod, the data by a discriminated union on `type`:
//   * a non-object, a missing or empty required attribute, a specversion other than "1.0",
//     a source that is not a URI-reference (RFC 3986: no spaces or control characters), a
//     time that is not RFC 3339 (a date that does not exist, no UTC offset, "+0200" without
//     the colon) or an empty optional attribute: { ok: false, reason: "invalid-envelope" };
//   * a valid envelope whose type nobody here knows (a v3 from the future, another domain):
//     "unknown-type", never an exception: the consumer routes it aside and carries on;
//   * a known type whose data breaks its schema: "invalid-data".
//   Unknown fields are tolerated: extension attributes are kept on the event, unknown fields
//   inside `data` are accepted. A valid event comes back upcast to its latest version.
// - upcast(event): v1 -> v2 as events.ts says; every other attribute stays as it was.
// - eventIdentity(event): source + id, the identity a consumer deduplicates on. Two
//   different (source, id) pairs never give the same identity, whatever characters they hold.
// - createEventConsumer: parse, route the invalid and the unknown to the dead-letter sink,
//   skip an event whose identity was already handled, call the handler of its (latest) type,
//   and record the identity only once the handler succeeded: a handler that throws makes
//   consume() reject with that error, and the redelivery is handled again.
//
// Tests: tests/event-envelope.test.ts (`npm run check week9 event-envelope`).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { KnownEvent, LatestEvent, OrderCancelled, OrderPlacedV2 } from "./events";

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

/** Validates a CloudEvents 1.0 envelope and its data; a valid event comes back in its latest version. */
export function parseEvent(input: unknown): ParseResult {
  // TODO: zod schemas for the envelope (required attributes, RFC 3339 time, URI-reference
  //       source, extensions kept) and a discriminated union on `type` for the three types;
  //       tell the three reasons apart, then upcast.
  throw new NotImplementedError("event-envelope");
}

/** Turns any known version into the latest one; attributes other than type and data stay as they were. */
export function upcast(event: KnownEvent): LatestEvent {
  // TODO: order.placed.v1 -> v2 (amountCents in EUR -> total); the others are already latest.
  throw new NotImplementedError("event-envelope");
}

/** The deduplication identity of an event: its source and id, unambiguously combined. */
export function eventIdentity(event: { readonly source: string; readonly id: string }): string {
  // TODO: ("a:b", "c") and ("a", "b:c") are two different events.
  throw new NotImplementedError("event-envelope");
}

/** A consumer that never crashes on what it cannot handle and handles each event once. */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  // TODO: parse -> dead-letter or dedupe -> handler -> remember the identity.
  throw new NotImplementedError("event-envelope");
}
