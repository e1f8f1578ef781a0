// Kata: rabbitmq-topology (3 of 3: consuming; see topology.ts and publisher.ts)
//
// A consumer that acknowledges a message before its work is done loses it when the work
// fails or the process dies; one that never limits what it takes gets the whole queue
// pushed into its memory; one that does not reconnect stops for good at the first network
// blip. Build startConsumer, a consumer of names.workQueue that does none of that:
// - its own connection to `url` and a channel with prefetch = `prefetch`: at most that many
//   unacknowledged messages at once, and up to that many handlers running at once;
// - manual acks: a message is acked on the channel it came from, only after its handler
//   resolved (or once it was safely moved to the retry queue or the parking lot);
// - a handler that throws: if the message was retried fewer than maxRetries times, publish a
//   copy to the retry queue (through the default exchange "", routing key retryQueue) with
//   expiration = retryDelayMs and a header counting the retries, then ack the original; it
//   comes back to the work queue after the delay. After maxRetries retries, the copy goes to
//   the parking lot instead. Wait for the broker's confirm of the copy (a confirm channel)
//   before acking the original, or a crash in between loses the message;
// - the handler always sees the message's original routing key and its attempt number
//   (1, then 2 for the first retry, ...), however often it went through the retry queue;
// - a body that is not JSON goes straight to the parking lot: no retry makes it valid;
// - copies (to the retry queue, to the parking lot) are persistent and keep the messageId;
// - when the connection is lost, reconnect with backoff (reconnect.initialDelayMs, doubling
//   up to maxDelayMs), declare the topology again and consume again. A handler that finishes
//   after its channel died must not ack on the new channel: delivery tags belong to one
//   channel, and the broker redelivers what was unacknowledged anyway;
// - the broker may cancel the consumer (its queue was deleted: the callback gets null):
//   report it through onError and stop consuming; never crash;
// - startConsumer resolves once it consumes; if the first connection fails it rejects with
//   amqplib's error (fail fast at startup: a wrong URL should fail the deploy, not hang);
// - stop() cancels the consumer, waits for the running handlers (their acks go out), closes
//   the channel, then the connection, and never reconnects again. (The channel first: its
//   close handshake returns once the broker processed the acks before it; a connection closed
//   right after an ack may lose it, and the message is delivered again.)
//
// Tests: tests/rabbitmq-topology.test.ts and tests/rabbitmq-reconnect.test.ts
// (`npm run check week9 rabbitmq-topology`).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { TopologyNames } from "./topology";

export interface DeliveredMessage {
  /** The routing key it was first published with. */
  readonly routingKey: string;
  /** The JSON body, parsed. */
  readonly body: unknown;
  readonly messageId: string | undefined;
  /** 1 for the first try, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** The broker's flag: this delivery of this copy was made before (a lost connection, a requeue). */
  readonly redelivered: boolean;
}

export type MessageHandler = (message: DeliveredMessage) => Promise<void> | void;

export interface ConsumerOptions {
  readonly url: string;
  readonly names: TopologyNames;
  readonly handler: MessageHandler;
  /** Unacknowledged messages at once. */
  readonly prefetch: number;
  /** Retries through the retry queue before a message is parked. */
  readonly maxRetries: number;
  /** How long a failed message waits in the retry queue. */
  readonly retryDelayMs: number;
  readonly reconnect?: {
    /** Default 100. */
    readonly initialDelayMs?: number;
    /** Default 5 000. */
    readonly maxDelayMs?: number;
  };
  /** Told about what the consumer survived: lost connections, failed reconnects, a broker cancel. */
  readonly onError?: (error: Error) => void;
}

export interface RunningConsumer {
  /** Stops consuming, waits for running handlers, closes everything; no reconnect after it. */
  stop(): Promise<void>;
}

/** Connects, declares the topology, and consumes names.workQueue until stop(). */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  // TODO: connect, createConfirmChannel, declareTopology, prefetch, consume with noAck false;
  //       per message: handler, then ack, or retry/park and ack once confirmed; on 'close'
  //       (not from stop) reconnect with backoff.
  throw new NotImplementedError("rabbitmq-topology");
}
