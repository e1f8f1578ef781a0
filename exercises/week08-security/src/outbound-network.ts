// The network as the outbound-guard kata sees it: a resolver and a dialer. Given and complete.
//
// The guard never lets Node resolve a name behind its back: it resolves once, vets every
// address, and then dials exactly the address it vetted (so a DNS answer that changes between
// the check and the connection, "DNS rebinding", changes nothing). Tests pass a stub of this
// interface that maps names and addresses to local servers; production passes systemNetwork.

import { lookup } from "node:dns/promises";
import { isIP, connect as tcpConnect } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";

export interface DialTarget {
  /** The vetted IP address to connect to. */
  readonly address: string;
  readonly port: number;
  /** The URL's host (an IPv6 literal without brackets): for TLS server name indication and certificates. */
  readonly hostname: string;
  readonly tls: boolean;
}

export interface OutboundNetwork {
  /** Every address of a host name, IPv4 and IPv6, like dns.lookup(name, { all: true }). */
  resolve(hostname: string): Promise<readonly string[]>;
  /** A connection to an address the guard has vetted. */
  connect(target: DialTarget): Duplex;
}

/** The real network: the system resolver, TCP, and TLS with the host name's certificate. */
export const systemNetwork: OutboundNetwork = {
  resolve: async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address),
  connect: ({ address, port, hostname, tls }) =>
    tls
      ? // SNI carries names only; for an IP literal the certificate is checked against the IP.
        tlsConnect({ host: address, port, servername: isIP(hostname) ? undefined : hostname })
      : tcpConnect({ host: address, port }),
};
