// Kata: rabbitmq-topology (1 of 3: the topology; then publisher.ts and consumer.ts)
//
// In RabbitMQ, producers never write to a queue: they publish to an exchange with a routing
// key, and bindings decide which queues get a copy. Declare the order service's topology
// (every declaration idempotent: declaring it twice changes nothing):
// - `exchange`: a durable topic exchange; `*` in a binding key matches one dot-separated
//   word, `#` zero or more ("order.*.created" matches "order.eu.created");
// - `workQueue`: a durable queue bound to the exchange with each of `bindingKeys`;
// - `retryQueue`: the delay queue. Nobody consumes it: a message published to it with a
//   per-message TTL (the `expiration` property) waits there until the TTL runs out and is
//   then dead-lettered back to the work queue (x-dead-letter-exchange "" is the default
//   exchange, which routes by queue name; x-dead-letter-routing-key = workQueue);
// - `parkingLot`: a durable queue for the messages that used up their retries, for a human.
//
// Tests: tests/rabbitmq-topology.test.ts (`npm run check week9 rabbitmq-topology`).
// Keep the exported names and signatures: the tests import them.

import type { Channel } from "amqplib";
import { NotImplementedError } from "#kata";

export interface TopologyNames {
  readonly exchange: string;
  readonly workQueue: string;
  readonly retryQueue: string;
  readonly parkingLot: string;
  /** Topic patterns the work queue is bound with ("order.*.created", "payment.#"). */
  readonly bindingKeys: readonly string[];
}

/** Declares the exchange, the three queues and the bindings; safe to call on every (re)connect. */
export async function declareTopology(channel: Channel, names: TopologyNames): Promise<void> {
  // TODO: assertExchange (topic, durable), assertQueue x3 (the retry queue with its
  //       dead-letter arguments), bindQueue per binding key.
  throw new NotImplementedError("rabbitmq-topology");
}
