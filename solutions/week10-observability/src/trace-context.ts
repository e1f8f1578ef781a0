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

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;
const KEY_CHARS = "[_0-9a-z\\-*/]";
const KEY = new RegExp(`^(?:[a-z]${KEY_CHARS}{0,255}|[a-z0-9]${KEY_CHARS}{0,240}@[a-z]${KEY_CHARS}{0,13})$`);
// Printable ASCII but "," and "="; the last character is not a space.
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_MEMBERS = 32;
const LONG_MEMBER = 128;

/** Strips optional whitespace (spaces and tabs, RFC 9110 OWS) at both ends. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === " " || text[start] === "\t")) start++;
  while (end > start && (text[end - 1] === " " || text[end - 1] === "\t")) end--;
  return text.slice(start, end);
}

/**
 * Parses a traceparent as W3C Trace Context says to: lowercase hex only, version ff and all-zero
 * ids invalid, version 00 exactly 55 characters, a higher version parsed for its first four
 * fields when they are followed by "-" or the end. Two values (a duplicated header) are invalid.
 * Returns undefined for anything invalid: the caller then starts a new trace.
 */
export function parseTraceparent(value: string | readonly string[] | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    if (value.length !== 1) return undefined;
    return parseTraceparent(value[0]);
  }
  const match = TRACEPARENT.exec(trimOws(value));
  if (!match) return undefined;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (ALL_ZEROS.test(traceId) || ALL_ZEROS.test(parentId)) return undefined;
  return { version: Number.parseInt(version, 16), traceId, parentId, flags: Number.parseInt(flags, 16) };
}

/** Writes a version-00 traceparent. RangeError for ids or flags that no parser would accept. */
export function formatTraceparent(parent: Pick<TraceParent, "traceId" | "parentId" | "flags">): string {
  const { traceId, parentId, flags } = parent;
  if (!/^[0-9a-f]{32}$/.test(traceId) || ALL_ZEROS.test(traceId))
    throw new RangeError(`invalid trace-id ${JSON.stringify(traceId)}`);
  if (!/^[0-9a-f]{16}$/.test(parentId) || ALL_ZEROS.test(parentId))
    throw new RangeError(`invalid parent-id ${JSON.stringify(parentId)}`);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff)
    throw new RangeError(`trace-flags must be one byte (got ${flags})`);
  return `00-${traceId}-${parentId}-${flags.toString(16).padStart(2, "0")}`;
}

/**
 * Parses tracestate, several header values joined in order. Empty members and OWS around them
 * are allowed; anything else invalid (a bad key or value, a key twice, more than 32 members)
 * discards the whole header, as the W3C test suite's strict level expects.
 */
export function parseTracestate(value: string | readonly string[] | undefined): TraceState {
  if (value === undefined) return [];
  const joined = typeof value === "string" ? value : value.join(",");
  const members: Array<readonly [string, string]> = [];
  const keys = new Set<string>();
  for (const raw of joined.split(",")) {
    const member = trimOws(raw);
    if (member === "") continue;
    const eq = member.indexOf("=");
    if (eq < 0) return [];
    const key = member.slice(0, eq);
    const memberValue = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(memberValue) || keys.has(key)) return [];
    keys.add(key);
    members.push([key, memberValue]);
    if (members.length > MAX_MEMBERS) return [];
  }
  return members;
}

/** Writes tracestate members, left-most first. */
export function formatTracestate(state: TraceState): string {
  return state.map(([key, value]) => `${key}=${value}`).join(",");
}

/**
 * Sets our member: it moves (or is added) to the left, the others keep their order. Past 32
 * members, whole entries go: first those over 128 characters, from the right, then the
 * right-most. RangeError for a key or value the grammar does not allow.
 */
export function updateTracestate(state: TraceState, key: string, value: string): TraceState {
  if (!KEY.test(key)) throw new RangeError(`invalid tracestate key ${JSON.stringify(key)}`);
  if (!VALUE.test(value)) throw new RangeError(`invalid tracestate value ${JSON.stringify(value)}`);
  const next: Array<readonly [string, string]> = [[key, value], ...state.filter(([k]) => k !== key)];
  while (next.length > MAX_MEMBERS) {
    let drop = next.length - 1;
    for (let i = next.length - 1; i > 0; i--) {
      const [k, v] = next[i]!;
      if (k.length + 1 + v.length > LONG_MEMBER) {
        drop = i;
        break;
      }
    }
    next.splice(drop, 1);
  }
  return next;
}

/** Every value of a header, whatever the case of its name, in the carrier's order. */
function headerValues(headers: Carrier, name: string): string[] {
  const values: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = headers[key];
    if (typeof value === "string") values.push(value);
    else if (value !== undefined) values.push(...value);
  }
  return values;
}

/**
 * Reads the trace context of an incoming request. Header names in any case. An invalid or
 * duplicated traceparent gives undefined, and its tracestate is not even parsed: restart the trace.
 */
export function extractContext(headers: Carrier): PropagatedContext | undefined {
  const traceparent = parseTraceparent(headerValues(headers, "traceparent"));
  if (traceparent === undefined) return undefined;
  return { traceparent, tracestate: parseTracestate(headerValues(headers, "tracestate")) };
}
