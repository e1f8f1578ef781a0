// Kata: rabbitmq-topology (2 of 3: publishing with confirms; see topology.ts and consumer.ts)
//
// `channel.publish` returns before the broker has the message: a broker that restarts, a
// full queue or a routing key no queue is bound to lose it silently. Publisher confirms
// fix the first two, the `mandatory` flag the third. Build ConfirmingPublisher:
// - open() creates a confirm channel (createConfirmChannel) on the given connection;
// - publish(routingKey, body) sends `body` as JSON (contentType "application/json"),
//   persistent (deliveryMode 2: a durable queue keeps it across a broker restart), with a
//   messageId (given, or a fresh UUID) and mandatory, and resolves only once the broker
//   confirmed it (basic.ack);
// - a message no queue is bound to comes back (the channel's 'return' event, which arrives
//   before its ack): that publish rejects with UnroutableError;
// - a message the broker refuses (basic.nack: a queue with x-overflow reject-publish is
//   full, an internal error) rejects with PublishRejectedError;
// - when publish() answers false the channel's buffer is full: wait for 'drain' before
//   writing more, so a burst does not grow the heap without bound;
// - close() waits for the confirms still outstanding, then closes the channel; a publish
//   after close() rejects.
//
// Tests: tests/rabbitmq-topology.test.ts (`npm run check week9 rabbitmq-topology`).
// Keep the exported names and signatures: the tests import them.

import type { ChannelModel } from "amqplib";
import { NotImplementedError } from "#kata";

export class UnroutableError extends Error {
  readonly code = "ERR_UNROUTABLE";

  constructor(readonly routingKey: string) {
    super(`no queue is bound for routing key ${routingKey}`);
    this.name = "UnroutableError";
  }
}

export class PublishRejectedError extends Error {
  readonly code = "ERR_PUBLISH_REJECTED";

  constructor(readonly routingKey: string) {
    super(`the broker refused the message for routing key ${routingKey}`);
    this.name = "PublishRejectedError";
  }
}

export interface PublishOptions {
  /** Default: a fresh UUID. */
  readonly messageId?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
}

export class ConfirmingPublisher {
  // TODO: keep what you need (the confirm channel, the publishes awaiting their confirm).
  private constructor(readonly exchange: string) {}

  /** A publisher on its own confirm channel of `connection`, publishing to `exchange`. */
  static async open(connection: ChannelModel, exchange: string): Promise<ConfirmingPublisher> {
    // TODO: createConfirmChannel, listen for 'return' (and 'error'), construct.
    throw new NotImplementedError("rabbitmq-topology");
  }

  /** Publishes `body` as persistent JSON; resolves once the broker confirmed it. */
  async publish(routingKey: string, body: unknown, options: PublishOptions = {}): Promise<void> {
    // TODO: mandatory, persistent, contentType, messageId; resolve on ack, reject on nack or return.
    throw new NotImplementedError("rabbitmq-topology");
  }

  /** Waits for outstanding confirms, then closes the channel. */
  async close(): Promise<void> {
    // TODO: waitForConfirms, then close.
    throw new NotImplementedError("rabbitmq-topology");
  }
}
