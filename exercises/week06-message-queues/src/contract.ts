// The payload contract of the orders queue, shared by the producer (which validates before
// enqueueing) and the workers (which validate again before acting: a queue is an untrusted
// boundary too, written to by older deploys, scripts and people with redis-cli).
//
// This file is given and complete; the katas import it. A command is a name plus a payload;
// every schema is strict, so a misspelt field is an error instead of silently vanishing.

import { z } from "zod";

/** The queue every command of this week travels on (each test gives it its own prefix). */
export const ORDERS_QUEUE = "orders";

const orderId = z.string().regex(/^ord_[A-Za-z0-9]{8,32}$/, "an order id such as ord_8f3k2m9q");
const accountId = z.string().regex(/^acc_[A-Za-z0-9]{4,32}$/, "an account id such as acc_ada1");
/** Money travels as integer minor units (cents): floats cannot represent 0.10 exactly. */
const cents = z.number().int().positive().max(100_000_000);

export const commandSchemas = {
  /** E-mail the receipt of a paid order. */
  "send-receipt": z.strictObject({
    orderId,
    // Normalised here so that " Ada@Example.com" and "ada@example.com" are one command.
    email: z.string().trim().toLowerCase().pipe(z.email()),
    totalCents: cents,
  }),
  /** Charge the customer's card through the payment provider (an HTTP upstream). */
  "charge-card": z.strictObject({
    orderId,
    amountCents: cents,
    currency: z.enum(["EUR", "USD", "GBP"]),
  }),
  /** Credit an account balance in Postgres: the effect that must happen once. */
  "credit-account": z.strictObject({
    accountId,
    amountCents: cents,
  }),
} as const;

export type CommandName = keyof typeof commandSchemas;
export type CommandPayload<N extends CommandName = CommandName> = z.output<(typeof commandSchemas)[N]>;

/** Every command name, in a stable order. */
export const COMMAND_NAMES = Object.keys(commandSchemas) as CommandName[];

/** Narrows an untrusted string (an HTTP route parameter, a job name read from Redis). */
export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandSchemas, name);
}
