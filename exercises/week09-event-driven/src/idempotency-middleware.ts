// Kata: idempotency-key (2 of 2: the middleware; the header and the fingerprint are in
// idempotency-key.ts)
//
// A client that timed out on `POST /payments` cannot know whether the payment happened.
// With an Idempotency-Key it can simply retry: the server runs the operation once and
// answers every retry with the first answer. Build express middleware (draft-07) that does
// this over Redis, for several app instances sharing one Redis:
// - no Idempotency-Key: 400 when `required` (the default), else the request goes through
//   unprotected; a malformed one (parseIdempotencyKey gives undefined): 400;
// - keys are scoped to the client: the same key from two clients (clientIdOf) is two keys;
// - the first request with a key claims it atomically (two instances, ten concurrent
//   retries: one claim) and runs the handler; its final status, body and Content-Type and
//   Location headers are stored, whatever the status (a 402 or a 404 is an answer too),
//   BEFORE the answer is sent: a client that got it and retries at once finds it stored;
// - a retry with the same key and the same fingerprint, once the first has finished, gets
//   the stored answer replayed; the handler does not run again;
// - the same key with a different fingerprint (another body, another path): 422;
// - the same key while the first is still in flight: 409 (and it is not stored);
// - every refusal is an RFC 9457 problem: application/problem+json with type, title and
//   status (= the HTTP status);
// - nothing lives forever in Redis: an in-flight claim expires lockTimeoutMs after it was
//   taken (an instance that crashed mid-request must not lock the key forever), a stored
//   answer expirySeconds after the request finished (the expiry you publish in your API
//   documentation);
// - a request that outlived its claim (its lock expired and a retry took the key over) must
//   not overwrite what the retry stored when it finally finishes;
// - an answer larger than maxStoredBodyBytes is not kept (memory is bounded): its claim is
//   released, and a retry runs the handler again.
//
// Tests: tests/idempotency-key.test.ts (`npm run check week9 idempotency-key`).
// Keep the exported names and signatures: the tests import them.

import type { Request, RequestHandler, Response } from "express";
import type { Redis } from "ioredis";
import { NotImplementedError } from "#kata";

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

/** Express middleware that makes the routes after it safe to retry with an Idempotency-Key. */
export function idempotency(options: IdempotencyOptions): RequestHandler {
  // TODO: parse the header, scope the key by client, claim it atomically (SET NX PX, or a
  //       Lua script that claims or returns the record), then either refuse (400/409/422),
  //       replay, or run next() while capturing the response (wrap res.write and res.end),
  //       and in res.end store it (only if this request still owns the claim) before
  //       calling the real end.
  throw new NotImplementedError("idempotency-key");
}
