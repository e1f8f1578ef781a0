// Reference solution of the password-hashing kata: scrypt, PHC strings, timingSafeEqual.

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptCost {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

export const COST_BOUNDS = {
  log2N: { min: 1, max: 20 },
  r: { min: 1, max: 32 },
  p: { min: 1, max: 16 },
  maxMemoryBytes: 256 * 1024 * 1024,
  saltBytes: { min: 8, max: 64 },
  keyBytes: { min: 16, max: 64 },
} as const;

export interface PasswordHasherOptions {
  readonly cost?: ScryptCost;
  readonly minLength?: number;
  readonly maxBytes?: number;
}

export type PasswordPolicyCode = "ERR_PASSWORD_TOO_SHORT" | "ERR_PASSWORD_TOO_LONG" | "ERR_PASSWORD_INVALID";

export class PasswordPolicyError extends Error {
  constructor(readonly code: PasswordPolicyCode) {
    super(`password rejected: ${code}`);
    this.name = "PasswordPolicyError";
  }
}

export class MalformedHashError extends Error {
  readonly code = "ERR_MALFORMED_HASH";

  constructor(reason: string) {
    super(`malformed password hash: ${reason}`);
    this.name = "MalformedHashError";
  }
}

export interface VerifyOutcome {
  readonly valid: boolean;
  readonly upgradedHash: string | null;
}

/** OWASP Password Storage Cheat Sheet, scrypt: N = 2^17 (128 MiB), r = 8, p = 1. */
const OWASP_SCRYPT: ScryptCost = { log2N: 17, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const DEFAULT_MIN_LENGTH = 8;
const DEFAULT_MAX_BYTES = 1024;
// A UTF-16 code unit that is half of a pair without its other half. UTF-8 encodes every one
// of them as U+FFFD, so two different passwords would become the same bytes.
const LONE_SURROGATE = /\p{Cs}/u;

// The whole string in one anchored pattern: no trailing fields, no reordered or repeated
// parameters, no leading zeros, and only the unpadded base64 alphabet in salt and key.
const PHC_SCRYPT = /^\$scrypt\$ln=([1-9]\d?),r=([1-9]\d?),p=([1-9]\d?)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

interface ParsedHash {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** scrypt's working memory as OpenSSL counts it: the V array plus p blocks of 128·r bytes. */
function memoryBytes(cost: ScryptCost): number {
  return 128 * cost.r * (2 ** cost.log2N + cost.p + 2);
}

function costProblem(cost: ScryptCost): string | undefined {
  for (const name of ["log2N", "r", "p"] as const) {
    const value = cost[name];
    const { min, max } = COST_BOUNDS[name];
    if (!Number.isInteger(value) || value < min || value > max) return `${name} must be an integer in ${min}..${max}`;
  }
  if (memoryBytes(cost) > COST_BOUNDS.maxMemoryBytes) return "the cost needs more memory than allowed";
  return undefined;
}

/** Decodes unpadded base64, refusing any string that does not round-trip (Buffer.from skips junk). */
function decodeB64(text: string, bounds: { min: number; max: number }, what: string): Buffer {
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64").replace(/=+$/, "") !== text) {
    throw new MalformedHashError(`${what} is not canonical base64`);
  }
  if (bytes.length < bounds.min || bytes.length > bounds.max) {
    throw new MalformedHashError(`${what} has a wrong length`);
  }
  return bytes;
}

function parse(stored: string): ParsedHash {
  const match = PHC_SCRYPT.exec(stored);
  if (!match) throw new MalformedHashError("not a $scrypt$ PHC string");
  const cost = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const problem = costProblem(cost);
  if (problem) throw new MalformedHashError(problem);
  return {
    cost,
    salt: decodeB64(match[4]!, COST_BOUNDS.saltBytes, "salt"),
    key: decodeB64(match[5]!, COST_BOUNDS.keyBytes, "key"),
  };
}

function format(cost: ScryptCost, salt: Buffer, key: Buffer): string {
  const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");
  return `$scrypt$ln=${cost.log2N},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

/** The async scrypt, on libuv's thread pool, with maxmem sized to the cost. */
function derive(password: Buffer, salt: Buffer, cost: ScryptCost, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options = { N: 2 ** cost.log2N, r: cost.r, p: cost.p, maxmem: memoryBytes(cost) + 1024 * 1024 };
    scrypt(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** scrypt password hashing with PHC strings, constant-time checks and transparent upgrades. */
export class PasswordHasher {
  readonly #cost: ScryptCost;
  readonly #minLength: number;
  readonly #maxBytes: number;

  /** Throws a RangeError when a cost is outside COST_BOUNDS. */
  constructor(options: PasswordHasherOptions = {}) {
    const cost = options.cost ?? OWASP_SCRYPT;
    const problem = costProblem(cost);
    if (problem) throw new RangeError(`scrypt cost: ${problem}`);
    this.#cost = { log2N: cost.log2N, r: cost.r, p: cost.p };
    this.#minLength = options.minLength ?? DEFAULT_MIN_LENGTH;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** A PHC string for a new password; rejects with PasswordPolicyError when it breaks a rule. */
  async hash(password: string): Promise<string> {
    const normalized = this.#normalize(password);
    // Code points, not UTF-16 units: four emoji are four characters to the user, not eight.
    if ([...normalized.text].length < this.#minLength) throw new PasswordPolicyError("ERR_PASSWORD_TOO_SHORT");
    return this.#hashBytes(normalized.bytes);
  }

  /** Whether the password matches the stored hash; rejects with MalformedHashError when it is malformed. */
  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parse(stored);
    let bytes: Buffer;
    try {
      bytes = this.#normalize(password).bytes;
    } catch (error) {
      // A password hash() would refuse cannot match any hash hash() made: no need to spend scrypt on it.
      if (error instanceof PasswordPolicyError) return false;
      throw error;
    }
    const derived = await derive(bytes, parsed.salt, parsed.cost, parsed.key.length);
    return timingSafeEqual(derived, parsed.key);
  }

  /** Whether a stored hash was made with other parameters than this hasher's. Throws MalformedHashError. */
  needsRehash(stored: string): boolean {
    const { cost, salt, key } = parse(stored);
    return (
      cost.log2N !== this.#cost.log2N ||
      cost.r !== this.#cost.r ||
      cost.p !== this.#cost.p ||
      salt.length !== SALT_BYTES ||
      key.length !== KEY_BYTES
    );
  }

  /** verify(), plus a fresh hash to store when the password is right and the stored hash is outdated. */
  async verifyAndUpgrade(password: string, stored: string): Promise<VerifyOutcome> {
    if (!(await this.verify(password, stored))) return { valid: false, upgradedHash: null };
    if (!this.needsRehash(stored)) return { valid: true, upgradedHash: null };
    // No minimum-length check here: the password predates today's rule, and the user has
    // just proved they know it. Refusing the upgrade would leave the weak hash in place.
    return { valid: true, upgradedHash: await this.#hashBytes(this.#normalize(password).bytes) };
  }

  async #hashBytes(bytes: Buffer): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(bytes, salt, this.#cost, KEY_BYTES);
    return format(this.#cost, salt, key);
  }

  /** NFKC, so the same password typed on two keyboards is the same bytes; then the byte rules. */
  #normalize(password: string): { text: string; bytes: Buffer } {
    if (LONE_SURROGATE.test(password)) throw new PasswordPolicyError("ERR_PASSWORD_INVALID");
    // A first, generous cut before any work on the string: NFKC never shrinks text fourfold,
    // so a megabyte "password" costs one length check and nothing else. (The byte check below
    // gives the same answer, only later: no test can tell the two apart.)
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: a fast path only
    if (password.length > 4 * this.#maxBytes) throw new PasswordPolicyError("ERR_PASSWORD_TOO_LONG");
    const text = password.normalize("NFKC");
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length > this.#maxBytes) throw new PasswordPolicyError("ERR_PASSWORD_TOO_LONG");
    return { text, bytes };
  }
}
