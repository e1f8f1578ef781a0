// Reference solution for the `rabbitmq-topology` kata: the exchange, the queues and the
// bindings, declared idempotently on every (re)connect.

import type { Channel } from "amqplib";

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
  await channel.assertExchange(names.exchange, "topic", { durable: true });
  await channel.assertQueue(names.workQueue, { durable: true });
  // The delay queue: nobody consumes it, so a message leaves only when its per-message TTL
  // expires, and dead-lettering sends it through the default exchange back to the work queue.
  // (RabbitMQ expires messages at the head of a queue only: one delay per queue keeps the
  // head always the first to expire.)
  await channel.assertQueue(names.retryQueue, {
    durable: true,
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": names.workQueue },
  });
  await channel.assertQueue(names.parkingLot, { durable: true });
  for (const key of names.bindingKeys) await channel.bindQueue(names.workQueue, names.exchange, key);
}
