import { classifyNetworkError } from "./probe";
import { reasonOf, withTimeout } from "./timing";
import type { ProbeResult } from "./types";

export const RABBITMQ_DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672";
export const RABBITMQ_IMAGE = "rabbitmq:3-alpine";
export const RABBITMQ_PORT = 5672;

/** Classifies an amqplib connect error: bad credentials or vhost, a network problem, or something else. */
export function classifyAmqpError(error: unknown, timeoutMs: number): ProbeResult {
  const message = reasonOf(error);
  // 403 ACCESS_REFUSED: wrong user or password; 530 NOT_ALLOWED: no such vhost or no rights on it.
  if (/ACCESS_REFUSED|403|PLAIN login refused|NOT_ALLOWED|530/i.test(message)) {
    return { ok: false, kind: "auth", reason: `it refuses these credentials or this vhost (${message})` };
  }
  // amqplib's words when the broker closes the handshake instead of opening the vhost.
  if (/Expected ConnectionOpenOk/.test(message)) {
    return { ok: false, kind: "auth", reason: "the vhost does not exist, or this user has no rights on it" };
  }
  return classifyNetworkError(error, timeoutMs) ?? { ok: false, kind: "error", reason: message };
}

/** Opens an AMQP connection to `url` and closes it, all within `timeoutMs`. Never rejects. */
export async function probeRabbitMQ(url: string, timeoutMs: number): Promise<ProbeResult> {
  const amqp = await import("amqplib");
  let connection: Awaited<ReturnType<typeof amqp.connect>> | undefined;
  const attempt = amqp.connect(url, { timeout: timeoutMs }).then((c) => {
    connection = c;
    // A broker that goes away after the probe must not crash the checker.
    c.on("error", () => {});
    return c;
  });
  try {
    await withTimeout(attempt, timeoutMs, `connecting to ${url}`);
    return { ok: true };
  } catch (error) {
    // A connection that opens after the bound is closed as soon as it does.
    void attempt.then((c) => c.close()).catch(() => {});
    return classifyAmqpError(error, timeoutMs);
  } finally {
    await connection?.close().catch(() => {});
  }
}
