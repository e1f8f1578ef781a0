// Kata: password-hashing
//
// The day your users table leaks, the password column decides whether the attacker gets
// hashes to grind through or the passwords themselves. Build a password hasher on scrypt
// from node:crypto (Node 20 has no Argon2 built in):
// - hash(): NFKC-normalise, check the length rules, draw a fresh 16-byte salt from the CSPRNG,
//   derive a 32-byte key with the async `scrypt` (never `scryptSync`: it would stop the event
//   loop, and every other request, for the whole hash), and return a PHC string that records
//   the algorithm and its parameters:
//       $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>
//   salt and key in standard base64 (A-Z a-z 0-9 + /) without `=` padding. N = 2^17 needs
//   about 128 MiB: raise scrypt's `maxmem`, whose default (32 MiB) makes it throw.
// - verify(): recompute with the salt and parameters read from the stored string and compare
//   with crypto.timingSafeEqual on two buffers of the same length (never ===, never
//   Buffer.equals: both stop at the first differing byte, and that timing can be measured).
// - A stored string that is not exactly the format above, or whose parameters are outside the
//   bounds below, is a MalformedHashError: never a crash, never a RangeError from scrypt, and
//   above all never `true` (an empty key compared with an empty key is "equal").
// - needsRehash() says whether a stored hash was made with other parameters than this
//   hasher's; verifyAndUpgrade() verifies and, when the password is right and the hash is
//   outdated, hands back a fresh hash to store, which is how costs go up without a reset.
//
// Tests: tests/password-hashing.test.ts (npm run check week8 password-hashing).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";

/** scrypt's cost: N = 2^log2N (CPU and memory), r (block size), p (parallelism). */
export interface ScryptCost {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * Bounds on the parameters of a hash this module makes or accepts. A stored string outside
 * them is malformed: a tampered row with ln=40 must not make one login allocate 128 GiB.
 */
export const COST_BOUNDS = {
  log2N: { min: 1, max: 20 },
  r: { min: 1, max: 32 },
  p: { min: 1, max: 16 },
  /** scrypt's working memory, about 128 · r · (N + p + 2) bytes, at most this much. */
  maxMemoryBytes: 256 * 1024 * 1024,
  /** Decoded salt length in bytes, for stored hashes (new hashes always use 16). */
  saltBytes: { min: 8, max: 64 },
  /** Decoded key length in bytes, for stored hashes (new hashes always use 32). */
  keyBytes: { min: 16, max: 64 },
} as const;

export interface PasswordHasherOptions {
  /** Default: OWASP's minimum for scrypt (README, "Password storage"). Tests pass a low cost. */
  readonly cost?: ScryptCost;
  /** Fewest characters a new password may have, in code points after NFKC. Default 8. */
  readonly minLength?: number;
  /** Most UTF-8 bytes a password may have, after NFKC. Default 1024. */
  readonly maxBytes?: number;
}

export type PasswordPolicyCode =
  /** Fewer than minLength code points (checked by hash() only). */
  | "ERR_PASSWORD_TOO_SHORT"
  /** More than maxBytes UTF-8 bytes. */
  | "ERR_PASSWORD_TOO_LONG"
  /** Not well-formed Unicode (a lone surrogate): two such strings can encode to the same bytes. */
  | "ERR_PASSWORD_INVALID";

/** A new password breaks a rule. Thrown by hash(); verify() answers false instead. */
export class PasswordPolicyError extends Error {
  constructor(readonly code: PasswordPolicyCode) {
    super(`password rejected: ${code}`);
    this.name = "PasswordPolicyError";
  }
}

/** A stored hash that is not a PHC scrypt string this module can check. */
export class MalformedHashError extends Error {
  readonly code = "ERR_MALFORMED_HASH";

  constructor(reason: string) {
    // Never put the stored string itself in the message: it ends up in logs.
    super(`malformed password hash: ${reason}`);
    this.name = "MalformedHashError";
  }
}

/** What a login check answers: whether the password is right, and a new hash to store, if due. */
export interface VerifyOutcome {
  readonly valid: boolean;
  /** A fresh hash at this hasher's parameters when valid and outdated; otherwise null. */
  readonly upgradedHash: string | null;
}

/** scrypt password hashing with PHC strings, constant-time checks and transparent upgrades. */
export class PasswordHasher {
  /** Throws a RangeError when a cost is outside COST_BOUNDS. */
  constructor(options: PasswordHasherOptions = {}) {
    // TODO: keep the options, with the defaults filled in; validate the cost (RangeError).
    void options;
  }

  /** A PHC string for a new password; rejects with PasswordPolicyError when it breaks a rule. */
  async hash(password: string): Promise<string> {
    // TODO: normalize("NFKC"), the three rules, randomBytes(16), async scrypt (maxmem!), the string.
    throw new NotImplementedError("password-hashing");
  }

  /** Whether the password matches the stored hash; rejects with MalformedHashError when it is malformed. */
  async verify(password: string, stored: string): Promise<boolean> {
    // TODO: parse strictly, derive with the stored salt, parameters and key length, timingSafeEqual.
    throw new NotImplementedError("password-hashing");
  }

  /** Whether a stored hash was made with other parameters than this hasher's. Throws MalformedHashError. */
  needsRehash(stored: string): boolean {
    // TODO: parse, then compare ln, r, p, salt and key lengths with this hasher's.
    throw new NotImplementedError("password-hashing");
  }

  /** verify(), plus a fresh hash to store when the password is right and the stored hash is outdated. */
  async verifyAndUpgrade(password: string, stored: string): Promise<VerifyOutcome> {
    // TODO: only a valid password may produce a new hash; a password set under an older,
    // shorter minimum must still upgrade (the user just proved they know it).
    throw new NotImplementedError("password-hashing");
  }
}
