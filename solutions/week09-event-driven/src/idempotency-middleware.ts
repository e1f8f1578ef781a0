// Reference solution for the `idempotency-key` kata, middleware side: one execution per
// (client, key), the first answer replayed, every refusal a problem document, and every
// record in Redis with an expiry.

import { createHash, randomUUID } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import type { Redis } from "ioredis";
import { parseIdempotencyKey, requestFingerprint } from "./idempotency-key";

export interface IdempotencyOptions {
  /** Where claims and answers are kept; keys are namespaced by the client's keyPrefix. */
  readonly redis: Redis;
  /** The authenticated client a request comes from (an account, an API key id). */
  readonly clientIdOf: (req: Request, res: Response) => string;
  /** Refuse requests without the header (400). Default true. */
  readonly required?: boolean;
  /** How long a finished request's answer is replayed: your published expiry. Default 86 400 (24 h). */
  readonly expirySeconds?: number;
  /** How long an in-flight claim holds before it counts as abandoned. Default 60 000. */
  readonly lockTimeoutMs?: number;
  /** Largest response body stored for replay, in bytes. Default 1 MiB. */
  readonly maxStoredBodyBytes?: number;
}

interface InFlight {
  readonly state: "in-flight";
  readonly token: string;
  readonly fingerprint: string;
}

interface Completed {
  readonly state: "completed";
  readonly fingerprint: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** base64 */
  readonly body: string;
}

type StoredRecord = InFlight | Completed;

// Claim the key, or hand back whoever has it: one round trip, no gap between the two.
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`;

// Store the answer only while our claim still stands: a request that outlived its lock must
// not overwrite the record of the retry that took over. ARGV[3] = 0 releases instead.
const SETTLE = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or record.token ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1`;

interface WithScripts {
  idempotencyClaim(key: string, record: string, lockMs: number): Promise<string | null>;
  idempotencySettle(key: string, token: string, record: string, expirySeconds: number): Promise<number>;
}

/** The response headers a replay repeats; the rest (Date, Connection, cookies) belong to one exchange. */
const REPLAYED_HEADERS = ["content-type", "location"] as const;

const PROBLEMS = {
  missing: {
    status: 400,
    title: "Idempotency-Key is required",
    detail: "Send an Idempotency-Key header (a quoted string) with this request.",
  },
  malformed: {
    status: 400,
    title: "Malformed Idempotency-Key",
    detail: 'The Idempotency-Key must be a Structured Field String, for example "8e03978e".',
  },
  inFlight: {
    status: 409,
    title: "Request in progress",
    detail: "A request with this Idempotency-Key is still being processed; retry later.",
  },
  mismatch: {
    status: 422,
    title: "Idempotency-Key reused",
    detail: "This Idempotency-Key was used for a different request.",
  },
} as const;

function sendProblem(res: Response, problem: (typeof PROBLEMS)[keyof typeof PROBLEMS]): void {
  res
    .status(problem.status)
    .type("application/problem+json")
    .send(JSON.stringify({ type: "about:blank", ...problem }));
}

/** Express middleware that makes the routes after it safe to retry with an Idempotency-Key. */
export function idempotency(options: IdempotencyOptions): RequestHandler {
  const { redis, clientIdOf } = options;
  const required = options.required ?? true;
  const expirySeconds = options.expirySeconds ?? 86_400;
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  const maxBody = options.maxStoredBodyBytes ?? 1024 * 1024;
  redis.defineCommand("idempotencyClaim", { numberOfKeys: 1, lua: CLAIM });
  redis.defineCommand("idempotencySettle", { numberOfKeys: 1, lua: SETTLE });
  const scripts = redis as Redis & WithScripts;

  return (req, res, next) => {
    const header = req.get("idempotency-key");
    if (header === undefined) {
      if (required) return sendProblem(res, PROBLEMS.missing);
      return next();
    }
    const key = parseIdempotencyKey(header);
    if (key === undefined) return sendProblem(res, PROBLEMS.malformed);

    // A digest bounds the Redis key's length whatever the client sends, and the JSON pair
    // keeps (client, key) unambiguous.
    const scoped = createHash("sha256").update(JSON.stringify([clientIdOf(req, res), key]));
    // Stryker disable next-line StringLiteral: any encoding of the digest names the record as well
    const recordKey = `idempotency:${scoped.digest("base64url")}`;
    const fingerprint = requestFingerprint(req);
    const claim: InFlight = { state: "in-flight", token: randomUUID(), fingerprint };

    scripts.idempotencyClaim(recordKey, JSON.stringify(claim), lockTimeoutMs).then((existing) => {
      if (existing === null) return run(claim, recordKey, res, next);
      const record = JSON.parse(existing) as StoredRecord;
      if (record.fingerprint !== fingerprint) return sendProblem(res, PROBLEMS.mismatch);
      if (record.state === "in-flight") return sendProblem(res, PROBLEMS.inFlight);
      replay(record, res);
    }, next);
  };

  function run(claim: InFlight, recordKey: string, res: Response, next: (error?: unknown) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const capture = (chunk: unknown, encoding: unknown) => {
      // end() and end(callback) carry no data.
      if (chunk === undefined || typeof chunk === "function") return;
      const buffer =
        typeof chunk === "string"
          ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8")
          : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      // Past the limit, stop keeping copies; the answer will not be stored.
      if (size <= maxBody) chunks.push(buffer);
    };
    const writable = res as unknown as {
      write: (...args: unknown[]) => boolean;
      end: (...args: unknown[]) => Response;
    };
    const write = writable.write.bind(res);
    const end = writable.end.bind(res);
    writable.write = (...args) => {
      capture(args[0], args[1]);
      return write(...args);
    };
    // The answer is stored before it leaves: a client that got it and retries at once must
    // find it replayable, not "in flight".
    writable.end = (...args) => {
      capture(args[0], args[1]);
      const send = () => void end(...args);
      settle().then(send, send);
      return res;
    };

    const settle = async (): Promise<void> => {
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = res.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      const completed: Completed = {
        // Stryker disable next-line StringLiteral: any state but "in-flight" reads as completed
        state: "completed",
        fingerprint: claim.fingerprint,
        status: res.statusCode,
        headers,
        body: Buffer.concat(chunks).toString("base64"),
      };
      // An answer too large to keep is not replayable: release the key rather than replay a
      // truncated body.
      const ttl = size <= maxBody ? expirySeconds : 0;
      // If Redis fails here the claim expires after lockTimeoutMs and a retry runs again;
      // the client still gets this answer.
      await scripts.idempotencySettle(recordKey, claim.token, JSON.stringify(completed), ttl);
    };
    // A response that never finishes (the connection died mid-request) keeps the claim until
    // it expires: the handler may still be running, so a retry must not start alongside it.
    next();
  }
}

function replay(record: Completed, res: Response): void {
  res.status(record.status);
  for (const [name, value] of Object.entries(record.headers)) res.setHeader(name, value);
  res.end(Buffer.from(record.body, "base64"));
}
