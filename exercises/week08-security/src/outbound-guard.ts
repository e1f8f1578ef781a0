// Kata: input-hardening (outbound requests)
//
// A webhook URL, an avatar URL, a "import from link" feature: the moment your server fetches
// a URL a user gave it, the user can aim your server at what only it can reach: the cloud
// metadata service at 169.254.169.254 (and its credentials), an admin panel on 10.0.0.5, Redis
// on localhost. That is SSRF (OWASP API7). Build the guard every outbound fetch goes through:
// - isPublicAddress(ip): true only for a globally reachable unicast address. Refuse at least
//   loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local and
//   metadata (169.254/16, fe80::/10, fd00:ec2::254), carrier-grade NAT (100.64/10), "this
//   network" (0/8, ::), multicast and broadcast, the documentation and benchmark ranges,
//   and IPv6 forms that embed IPv4 (::ffff:a.b.c.d, 64:ff9b::/96): refuse them outright.
//   Anything that is not an IP address is false.
// - vetOutboundUrl(url): parse with the WHATWG URL parser (it turns 2130706433, 0x7f.1 and
//   127.1 into 127.0.0.1, which is why you never match URL strings with a regex). Only http
//   and https; only allowedPorts (default 80 and 443). An IP literal is checked as is; a name
//   is resolved through policy.network and refused when ANY of its addresses is not public
//   (ERR_OUTBOUND_BLOCKED), or when it has none or cannot be resolved (ERR_OUTBOUND_UNRESOLVED).
//   Answers the address to dial: the first one.
// - safeGet(url): GET through policy.network.connect() to the vetted address only (never let
//   Node resolve the name again: the answer could change between check and use), with the
//   URL's host in the Host header. Redirects (301, 302, 303, 307, 308) are followed by hand,
//   at most maxRedirects (default 3), and every Location is vetted again like a new URL.
//   The whole fetch is bounded by timeoutMs (default 5000) and the body by maxResponseBytes
//   (default 1 MiB). Whatever happens, no socket is left open.
//
// Tests: tests/outbound-guard.test.ts (npm run check week8 input-hardening).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { OutboundNetwork } from "./outbound-network";

export type OutboundErrorCode =
  /** The scheme, the port or an address (also after DNS or a redirect) is not allowed. */
  | "ERR_OUTBOUND_BLOCKED"
  /** The name has no address, or resolving it failed. */
  | "ERR_OUTBOUND_UNRESOLVED"
  /** More redirects than maxRedirects. */
  | "ERR_OUTBOUND_REDIRECTS"
  | "ERR_OUTBOUND_TIMEOUT"
  | "ERR_OUTBOUND_TOO_LARGE";

export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "OutboundError";
  }
}

export interface OutboundPolicy {
  readonly network: OutboundNetwork;
  /** Default [80, 443]. */
  readonly allowedPorts?: readonly number[];
  /** Default 3. */
  readonly maxRedirects?: number;
  /** For the whole fetch, redirects included. Default 5000. */
  readonly timeoutMs?: number;
  /** Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/** A URL that passed the checks, and the address it may be fetched from. */
export interface VettedTarget {
  readonly url: URL;
  readonly address: string;
  /** The port to dial: the URL's, or 80 / 443 by scheme. */
  readonly port: number;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** The URL that answered, after redirects. */
  readonly url: string;
}

/** Whether ip is a globally reachable unicast address. */
export function isPublicAddress(ip: string): boolean {
  // TODO: net.isIP, then the blocked ranges (net.BlockList has addSubnet and check).
  throw new NotImplementedError("input-hardening");
}

/** Checks scheme, port and every address of the host; rejects with OutboundError. */
export async function vetOutboundUrl(url: string, policy: OutboundPolicy): Promise<VettedTarget> {
  // TODO: new URL(url), the scheme and port, then the literal or every resolved address.
  throw new NotImplementedError("input-hardening");
}

/** A GET that only ever reaches public addresses, redirects included. */
export async function safeGet(url: string, policy: OutboundPolicy): Promise<OutboundResponse> {
  // TODO: a loop: vet, http.request with createConnection: () => network.connect(...), follow
  // or return; a deadline for the whole loop; count the body's bytes.
  throw new NotImplementedError("input-hardening");
}
