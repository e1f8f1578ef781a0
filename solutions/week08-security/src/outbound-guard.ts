// Reference solution of the input-hardening kata, outbound requests: an SSRF guard.

import http from "node:http";
import { BlockList, isIP } from "node:net";
import type { OutboundNetwork } from "./outbound-network";

export type OutboundErrorCode =
  | "ERR_OUTBOUND_BLOCKED"
  | "ERR_OUTBOUND_UNRESOLVED"
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
  readonly allowedPorts?: readonly number[];
  readonly maxRedirects?: number;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

export interface VettedTarget {
  readonly url: URL;
  readonly address: string;
  readonly port: number;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly url: string;
}

// IANA's special-purpose registries, the ranges that are not globally reachable unicast.
const NOT_PUBLIC_V4: [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, where cloud metadata lives (169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast
];
// IPv6 global unicast is 2000::/3; everything outside it (::1, ::, ::ffff:0:0/96, 64:ff9b::/96,
// fc00::/7, fe80::/10, ff00::/8) is refused by that alone. Inside it, these are not public:
const NOT_PUBLIC_V6: [string, number][] = [
  ["2001::", 23], // IETF protocol assignments, Teredo included
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4: embeds an IPv4 address
  ["3fff::", 20], // documentation
];

const notPublic = new BlockList();
for (const [network, prefix] of NOT_PUBLIC_V4) notPublic.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of NOT_PUBLIC_V6) notPublic.addSubnet(network, prefix, "ipv6");
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet("2000::", 3, "ipv6");

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Whether ip is a globally reachable unicast address. */
export function isPublicAddress(ip: string): boolean {
  switch (isIP(ip)) {
    case 4:
      return !notPublic.check(ip, "ipv4");
    case 6:
      return globalUnicastV6.check(ip, "ipv6") && !notPublic.check(ip, "ipv6");
    default:
      return false;
  }
}

/** The URL's host, an IPv6 literal without its brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

const blocked = (why: string) => new OutboundError("ERR_OUTBOUND_BLOCKED", why);

/** Checks scheme, port and every address of the host; rejects with OutboundError. */
export async function vetOutboundUrl(url: string, policy: OutboundPolicy): Promise<VettedTarget> {
  let parsed: URL;
  try {
    // The WHATWG parser is the one Node's own requests use: what it calls the host is the host.
    parsed = new URL(url);
  } catch {
    throw blocked("not an absolute URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw blocked(`scheme ${parsed.protocol} is not allowed`);
  }
  const port = parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port);
  if (!(policy.allowedPorts ?? [80, 443]).includes(port)) throw blocked(`port ${port} is not allowed`);

  const host = hostOf(parsed);
  if (isIP(host) !== 0) {
    if (!isPublicAddress(host)) throw blocked("the address is not public");
    return { url: parsed, address: host, port };
  }
  let addresses: readonly string[];
  try {
    addresses = await policy.network.resolve(host);
  } catch {
    throw new OutboundError("ERR_OUTBOUND_UNRESOLVED", "the name could not be resolved");
  }
  if (addresses.length === 0) throw new OutboundError("ERR_OUTBOUND_UNRESOLVED", "the name has no address");
  // Every one, not the first: a client may connect to any of them, and an attacker controls
  // the order of the records.
  if (!addresses.every(isPublicAddress)) throw blocked("the name resolves to an address that is not public");
  return { url: parsed, address: addresses[0]!, port };
}

interface Hop {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One GET to the vetted address; a redirect's body is not read. */
function fetchOnce(target: VettedTarget, policy: OutboundPolicy, signal: AbortSignal, maxBytes: number): Promise<Hop> {
  const { url, address, port } = target;
  return new Promise<Hop>((resolve, reject) => {
    const fail = (error: Error) => {
      request.destroy();
      reject(signal.aborted ? new OutboundError("ERR_OUTBOUND_TIMEOUT", "the fetch took too long") : error);
    };
    const request = http.request({
      method: "GET",
      path: `${url.pathname}${url.search}`,
      // Without an agent, Node sends Connection: close: one request per connection, closed after.
      headers: { host: url.host },
      // The vetted address and nothing else: Node never resolves the name itself.
      createConnection: () =>
        policy.network.connect({ address, port, hostname: hostOf(url), tls: url.protocol === "https:" }),
      signal,
    });
    request.on("error", fail);
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        request.destroy();
        return resolve({ status, headers: response.headers, body: Buffer.alloc(0) });
      }
      const declared = Number(response.headers["content-length"] ?? 0);
      if (declared > maxBytes) return fail(new OutboundError("ERR_OUTBOUND_TOO_LARGE", "the response is too large"));
      const chunks: Buffer[] = [];
      let received = 0;
      response.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) return fail(new OutboundError("ERR_OUTBOUND_TOO_LARGE", "the response is too large"));
        chunks.push(chunk);
      });
      response.on("error", fail);
      response.on("end", () => {
        request.destroy();
        resolve({ status, headers: response.headers, body: Buffer.concat(chunks) });
      });
    });
    request.end();
  });
}

/** Rejects as soon as the signal aborts, for steps (a DNS lookup) that take no signal themselves. */
function bounded<T>(step: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OutboundError("ERR_OUTBOUND_TIMEOUT", "the fetch took too long"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    step.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A Location, resolved against the URL that redirected; it is vetted again like any new URL. */
function nextHop(location: string, from: URL): string {
  try {
    return new URL(location, from).href;
  } catch {
    throw blocked("the redirect does not point at a URL");
  }
}

/** A GET that only ever reaches public addresses, redirects included. */
export async function safeGet(url: string, policy: OutboundPolicy): Promise<OutboundResponse> {
  const maxRedirects = policy.maxRedirects ?? 3;
  const maxBytes = policy.maxResponseBytes ?? 1024 * 1024;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), policy.timeoutMs ?? 5000);
  try {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const target = await bounded(vetOutboundUrl(current, policy), deadline.signal);
      const hop = await fetchOnce(target, policy, deadline.signal, maxBytes);
      const location = hop.headers.location;
      if (!REDIRECTS.has(hop.status) || location === undefined) {
        return { status: hop.status, headers: hop.headers, body: hop.body, url: target.url.href };
      }
      if (redirects >= maxRedirects) throw new OutboundError("ERR_OUTBOUND_REDIRECTS", "too many redirects");
      current = nextHop(location, target.url);
    }
  } finally {
    clearTimeout(timer);
  }
}
