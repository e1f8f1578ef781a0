// Kata: trace-context
//
// A trace crosses services only if every hop reads and writes the same two headers, exactly as
// W3C Trace Context (Level 1, plus Level 2's random flag) spells them. A service that accepts
// a malformed traceparent joins a stranger's trace; one that drops a valid one cuts the trace in
// two. Build the header functions:
// - parseTraceparent: "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>". Lowercase hex
//   only; version ff invalid; all-zero trace-id or parent-id invalid; version 00 is exactly
//   these 55 characters (anything after them is invalid); a higher version is parsed for these
//   four fields when they are followed by "-" or the end. Spaces and tabs around the value are
//   optional whitespace. Two values (a duplicated header) are invalid. Keep every flag bit as
//   received (flags 09 is 9): interpreting them is the caller's business. Invalid: undefined.
// - formatTraceparent: version 00, flags as two lowercase hex digits; RangeError for ids or flags
//   no parser would accept.
// - parseTracestate: members "key=value" separated by commas, several header values joined in
//   order; empty members and spaces or tabs around members are allowed. Keys: lowercase letter
//   then up to 255 of [a-z0-9_-*/], or tenant@system (tenant: up to 241 of them, starting with a
//   letter or digit; system: a letter then up to 13). Values: up to 256 printable ASCII
//   characters but "," and "=", not ending in a space. Any invalid member, a key twice or more
//   than 32 members: the WHOLE tracestate is discarded ([]), as the W3C test suite expects.
// - updateTracestate: our member moves (or is added) to the left, the others keep their order;
//   past 32 members, drop whole entries: first one over 128 characters (key=value), from the
//   right, else the right-most. RangeError for an invalid key or value.
// - extractContext: both headers from a carrier, names in any case; an invalid traceparent
//   gives undefined and its tracestate is ignored (start a new trace, drop the state).
//
// Tests: tests/trace-context.test.ts and tests/tracer.test.ts (npm run check week10 trace-context).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

/** trace-flags bit 0: the caller may have recorded this trace (Level 1). */
export const FLAG_SAMPLED = 0x01;
/** trace-flags bit 1: the trace-id's right-most 7 bytes are random (Level 2). */
export const FLAG_RANDOM = 0x02;

/** A parsed traceparent. `flags` keeps every bit received; mask before interpreting. */
export interface TraceParent {
  version: number;
  traceId: string;
  parentId: string;
  flags: number;
}

/** tracestate members in order, left-most first: [key, value] pairs. */
export type TraceState = ReadonlyArray<readonly [key: string, value: string]>;

/** HTTP request headers as Node gives them (lower-case names), or any plain object of them. */
export type Carrier = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What an incoming request carries: its parent, and the vendors' state that goes with it. */
export interface PropagatedContext {
  traceparent: TraceParent;
  tracestate: TraceState;
}

/** Parses a traceparent value (or the values of a repeated header); undefined when invalid. */
export function parseTraceparent(value: string | readonly string[] | undefined): TraceParent | undefined {
  // TODO: one regular expression does most of it; then the version, all-zero and trailing-data rules.
  throw new NotImplementedError("trace-context");
}

/** Writes a version-00 traceparent. RangeError for ids or flags that no parser would accept. */
export function formatTraceparent(parent: Pick<TraceParent, "traceId" | "parentId" | "flags">): string {
  // TODO
  throw new NotImplementedError("trace-context");
}

/** Parses tracestate; [] when absent or invalid. */
export function parseTracestate(value: string | readonly string[] | undefined): TraceState {
  // TODO
  throw new NotImplementedError("trace-context");
}

/** Writes tracestate members, left-most first. */
export function formatTracestate(state: TraceState): string {
  // TODO
  throw new NotImplementedError("trace-context");
}

/** Sets our member on the left and keeps the list within 32 members. */
export function updateTracestate(state: TraceState, key: string, value: string): TraceState {
  // TODO
  throw new NotImplementedError("trace-context");
}

/** Reads the trace context of an incoming request; undefined means "start a new trace". */
export function extractContext(headers: Carrier): PropagatedContext | undefined {
  // TODO: look the header names up case-insensitively; a header present twice is two values.
  throw new NotImplementedError("trace-context");
}
