// Kata: fault-proxy
//
// To prove that a service survives a slow, lossy or dead dependency, you first need a way to
// make the dependency slow, lossy or dead on demand. Toxiproxy does that from outside: a TCP
// proxy between the service and, say, Redis, with "toxics" switched on and off at run time.
// Build your own on node:net.
//
// startFaultProxy({ upstream }) listens on an ephemeral loopback port and pipes every
// connection it accepts to the upstream. Toxics (their exact meaning is in ./toxics.ts):
// - latency (latencyMs ± jitterMs per chunk, counted from when the chunk was read),
// - bandwidth (bytesPerSecond, trickled, never a burst of more),
// - slicer (chunks cut into small slices, delayMs apart),
// - timeout (a black hole: data dropped; the connection closed after timeoutMs, or never),
// - reset_peer (both sockets reset with a TCP RST after timeoutMs).
// Each acts on one direction, applies to a connection with probability `toxicity` (drawn
// once per connection and toxic from the injected `random`), and can be added and removed
// while connections are open, without restarting anything.
//
// Two properties matter as much as the toxics:
// - Backpressure: a client that reads slowly (or not at all) must not make the proxy buffer
//   without bound. Hold at most `highWaterMark` bytes per direction, then stop reading from
//   that side (socket.pause()) until the other side has drained. TCP does the rest.
// - close() leaves nothing behind: no listening socket, no connection, no timer.
//
// Tests: tests/fault-proxy.test.ts (npm run check week11 fault-proxy). They put the proxy in
// front of the real Redis and Postgres, and in front of a writer that never stops.
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { FaultProxy, FaultProxyOptions } from "./toxics";

export type { FaultProxy, FaultProxyOptions, ProxyStats, Toxic, ToxicSpec } from "./toxics";

/** Starts a TCP proxy in front of `options.upstream` whose faults can be changed at run time. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  // TODO: net.createServer; for each client socket, net.connect to the upstream and pipe both
  // directions through a bounded queue per direction that applies the toxics in force.
  // TODO: pause the source when a direction holds highWaterMark bytes or the destination's
  // write() returns false; resume once it has drained.
  // TODO: addToxic / removeToxic at run time: existing connections roll the toxic's toxicity
  // when it is added, new connections when they are accepted.
  // TODO: close() destroys every socket and clears every timer before it resolves.
  throw new NotImplementedError("fault-proxy");
}
