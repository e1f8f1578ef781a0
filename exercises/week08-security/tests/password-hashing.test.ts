import crypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MalformedHashError, PasswordHasher, PasswordPolicyError, type ScryptCost } from "../src/password-hashing";

// Every test but one runs at a cost that takes microseconds; the README explains why the real
// default (N = 2^17, 128 MiB, ~0.5 s) is right for production and wrong for a test suite.
const LOW: ScryptCost = { log2N: 4, r: 8, p: 1 };
const fast = (options: { cost?: ScryptCost; minLength?: number; maxBytes?: number } = {}) =>
  new PasswordHasher({ cost: LOW, ...options });

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

interface Parsed {
  log2N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parsePhc(stored: string): Parsed {
  const match = PHC.exec(stored);
  expect(
    match,
    `the stored string must read $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key> (unpadded base64), got ${stored}`,
  ).not.toBeNull();
  const [, ln, r, p, salt, key] = match!;
  return {
    log2N: Number(ln),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt!, "base64"),
    key: Buffer.from(key!, "base64"),
  };
}

function scryptOracle(password: string, parsed: Parsed): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(
      password,
      parsed.salt,
      parsed.key.length,
      { N: 2 ** parsed.log2N, r: parsed.r, p: parsed.p },
      (e, k) => (e ? reject(e) : resolve(k)),
    ),
  );
}

const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");
const SALT = b64(Buffer.alloc(16, 7));
const KEY = b64(Buffer.alloc(32, 9));

afterEach(() => {
  vi.restoreAllMocks();
  syncBuiltinESMExports();
});

describe("hash: a PHC string that records how it was made", () => {
  it("with no options, is set to OWASP's scrypt minimum: a hash at ln=17, r=8, p=1 needs no rehash", () => {
    const hasher = new PasswordHasher();
    const at = (cost: string) => `$scrypt$${cost}$${SALT}$${KEY}`;
    expect(hasher.needsRehash(at("ln=17,r=8,p=1")), "the defaults are OWASP's: N = 2^17, r = 8, p = 1").toBe(false);
    for (const cost of ["ln=16,r=8,p=1", "ln=17,r=4,p=1", "ln=17,r=8,p=2"]) {
      expect(hasher.needsRehash(at(cost)), `${cost} is not the default cost`).toBe(true);
    }
  });

  it("draws a fresh 16-byte salt and derives a 32-byte key, so one password never hashes the same twice", async () => {
    const hasher = fast();
    const first = parsePhc(await hasher.hash("correct horse battery staple"));
    const second = parsePhc(await hasher.hash("correct horse battery staple"));
    expect(first.salt.length, "a 16-byte (128-bit) random salt").toBe(16);
    expect(first.key.length, "a 32-byte derived key").toBe(32);
    expect(first.salt.equals(second.salt), "a fixed salt lets one precomputed table crack every user at once").toBe(
      false,
    );
    expect(first.key.equals(second.key), "equal passwords must not give equal hashes").toBe(false);
  });

  it("stores the key scrypt really derives from the salt and parameters it records", async () => {
    const stored = await fast({ cost: { log2N: 5, r: 4, p: 2 } }).hash("correct horse battery staple");
    const parsed = parsePhc(stored);
    expect({ log2N: parsed.log2N, r: parsed.r, p: parsed.p }, "the string records the cost it was made with").toEqual({
      log2N: 5,
      r: 4,
      p: 2,
    });
    const expected = await scryptOracle("correct horse battery staple", parsed);
    expect(
      parsed.key.equals(expected),
      "any PHC-aware verifier must be able to recompute the key from the string alone",
    ).toBe(true);
  });

  it("refuses a new password shorter than 8 characters, counting code points rather than UTF-16 units", async () => {
    const hasher = fast();
    await expect(hasher.hash("seven77"), "7 characters").rejects.toMatchObject({ code: "ERR_PASSWORD_TOO_SHORT" });
    await expect(
      hasher.hash("😀😀😀😀"),
      "4 emoji are 4 characters to the user, though .length says 8",
    ).rejects.toBeInstanceOf(PasswordPolicyError);
    expect(parsePhc(await hasher.hash("eight888")).key.length, "8 characters are enough").toBe(32);
    await expect(fast({ minLength: 12 }).hash("eleven11111"), "minLength is an option").rejects.toMatchObject({
      code: "ERR_PASSWORD_TOO_SHORT",
    });
  });

  it("refuses more than 1024 UTF-8 bytes, counted after NFKC, and accepts exactly 1024", async () => {
    const hasher = fast();
    parsePhc(await hasher.hash("a".repeat(1024)));
    await expect(
      hasher.hash("a".repeat(1025)),
      "a length limit bounds the work an attacker can ask for",
    ).rejects.toMatchObject({
      code: "ERR_PASSWORD_TOO_LONG",
    });
    await expect(hasher.hash("é".repeat(513)), "513 characters, but 1026 bytes").rejects.toMatchObject({
      code: "ERR_PASSWORD_TOO_LONG",
    });
    await expect(hasher.hash("x".repeat(1_000_000)), "a megabyte body in the password field").rejects.toMatchObject({
      code: "ERR_PASSWORD_TOO_LONG",
    });
    await expect(fast({ maxBytes: 16 }).hash("a".repeat(17)), "maxBytes is an option").rejects.toMatchObject({
      code: "ERR_PASSWORD_TOO_LONG",
    });
  });

  it("refuses a password with a lone surrogate, which UTF-8 would encode like another password", async () => {
    await expect(fast().hash("\uD800password")).rejects.toMatchObject({ code: "ERR_PASSWORD_INVALID" });
  });

  it("refuses a cost outside the bounds when the hasher is made", () => {
    expect(() => new PasswordHasher({ cost: { log2N: 0, r: 8, p: 1 } }), "N = 1 is no cost at all").toThrow(RangeError);
    expect(() => new PasswordHasher({ cost: { log2N: 17, r: 8, p: 0 } }), "p = 0").toThrow(RangeError);
    expect(() => new PasswordHasher({ cost: { log2N: 20, r: 8, p: 1 } }), "1 GiB per hash").toThrow(RangeError);
    expect(() => new PasswordHasher({ cost: { log2N: 21, r: 1, p: 1 } }), "ln above 20").toThrow(RangeError);
    expect(
      () => new PasswordHasher({ cost: { log2N: 20, r: 1, p: 1 } }),
      "ln = 20 at r = 1 is 128 MiB: allowed",
    ).not.toThrow();
    expect(() => new PasswordHasher({ cost: { log2N: 4, r: 8, p: 17 } }), "p above 16").toThrow(RangeError);
  });
});

describe("verify: constant time, and the same password however it was typed", () => {
  it("accepts the password and refuses any other, even one differing only in case", async () => {
    const hasher = fast();
    const stored = await hasher.hash("Tr0ub4dor&3");
    expect(await hasher.verify("Tr0ub4dor&3", stored)).toBe(true);
    expect(await hasher.verify("tr0ub4dor&3", stored)).toBe(false);
    expect(await hasher.verify("Tr0ub4dor&", stored)).toBe(false);
    expect(await hasher.verify("", stored)).toBe(false);
  });

  it("verifies a hash made with other parameters, reading them from the string", async () => {
    const old = await fast({ cost: { log2N: 5, r: 10, p: 12 } }).hash("Tr0ub4dor&3");
    expect(await fast().verify("Tr0ub4dor&3", old), "old hashes must keep working after the cost goes up").toBe(true);
  });

  it("normalises to NFKC: é typed as one code point or as e + combining accent is one password", async () => {
    const hasher = fast();
    const stored = await hasher.hash("caf\u00e9-au-lait");
    expect(
      await hasher.verify("cafe\u0301-au-lait", stored),
      "macOS and Windows keyboards send different code points for é",
    ).toBe(true);
    const wide = await hasher.hash("ｐａｓｓｗｏｒｄ１");
    expect(
      await hasher.verify("password1", wide),
      "NFKC folds full-width letters, as a CJK input method types them",
    ).toBe(true);
  });

  it("answers false for a password hash() would refuse, without throwing", async () => {
    const hasher = fast();
    const stored = await hasher.hash("Tr0ub4dor&3");
    expect(await hasher.verify("x".repeat(5000), stored)).toBe(false);
    expect(await hasher.verify("\uDC00abcdefgh", stored)).toBe(false);
  });

  it("compares with crypto.timingSafeEqual, on two buffers of the key's length", async () => {
    const hasher = fast();
    const stored = await hasher.hash("Tr0ub4dor&3");
    const spy = vi.spyOn(crypto, "timingSafeEqual");
    syncBuiltinESMExports();
    expect(await hasher.verify("Tr0ub4dor&3", stored)).toBe(true);
    expect(await hasher.verify("wrong password", stored)).toBe(false);
    expect(
      spy.mock.calls.length,
      "=== and Buffer.equals stop at the first differing byte, and that timing leaks the hash byte by byte: " +
        "use timingSafeEqual",
    ).toBeGreaterThanOrEqual(2);
    for (const [a, b] of spy.mock.calls) {
      expect(
        [(a as Uint8Array).byteLength, (b as Uint8Array).byteLength],
        "timingSafeEqual needs two buffers of one length",
      ).toEqual([32, 32]);
    }
  });
});

describe("malformed stored hashes: a typed error, never a crash, never true", () => {
  const cases: [string, string][] = [
    ["an empty string", ""],
    ["a bcrypt hash", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"],
    ["another algorithm", `$argon2id$v=19$m=19456,t=2,p=1$${SALT}$${KEY}`],
    ["no key", `$scrypt$ln=4,r=8,p=1$${SALT}`],
    ["an empty key (an empty buffer equals an empty buffer)", `$scrypt$ln=4,r=8,p=1$${SALT}$`],
    ["a key that is not base64 (Buffer.from would decode it to nothing)", `$scrypt$ln=4,r=8,p=1$${SALT}$!!!!!!!!`],
    ["a one-byte key (one guess in 256 would pass)", `$scrypt$ln=4,r=8,p=1$${SALT}$${b64(Buffer.from([1]))}`],
    ["an empty salt", `$scrypt$ln=4,r=8,p=1$$${KEY}`],
    ["ln=40, which would ask for 128 TiB", `$scrypt$ln=40,r=8,p=1$${SALT}$${KEY}`],
    ["ln=0", `$scrypt$ln=0,r=8,p=1$${SALT}$${KEY}`],
    ["r=0", `$scrypt$ln=4,r=0,p=1$${SALT}$${KEY}`],
    ["p=0", `$scrypt$ln=4,r=8,p=0$${SALT}$${KEY}`],
    ["a missing parameter", `$scrypt$ln=4,r=8$${SALT}$${KEY}`],
    ["a non-numeric parameter", `$scrypt$ln=x,r=8,p=1$${SALT}$${KEY}`],
    ["a fractional parameter", `$scrypt$ln=4.5,r=8,p=1$${SALT}$${KEY}`],
    ["a trailing field", `$scrypt$ln=4,r=8,p=1$${SALT}$${KEY}$extra`],
    ["something before it", `x$scrypt$ln=4,r=8,p=1$${SALT}$${KEY}`],
  ];

  it.each(cases)("%s is a MalformedHashError from verify and from needsRehash", async (_name, stored) => {
    const hasher = fast();
    await expect(
      hasher.verify("anything at all", stored).then((valid) => ({ valid })),
      "a broken row must be an error the login code can log, never a crash and never a 'true'",
    ).rejects.toBeInstanceOf(MalformedHashError);
    expect(() => hasher.needsRehash(stored)).toThrow(MalformedHashError);
  });

  it("carries the code ERR_MALFORMED_HASH", async () => {
    await expect(fast().verify("anything", "not a hash")).rejects.toMatchObject({ code: "ERR_MALFORMED_HASH" });
  });
});

describe("upgrades: the cost goes up without a password reset", () => {
  it("needsRehash is true when ln, r or p differ from the hasher's, and false when they match", async () => {
    const current = fast({ cost: { log2N: 5, r: 8, p: 1 } });
    expect(current.needsRehash(await fast({ cost: { log2N: 4, r: 8, p: 1 } }).hash("Tr0ub4dor&3")), "a lower N").toBe(
      true,
    );
    expect(current.needsRehash(await fast({ cost: { log2N: 5, r: 4, p: 1 } }).hash("Tr0ub4dor&3")), "another r").toBe(
      true,
    );
    expect(current.needsRehash(await fast({ cost: { log2N: 5, r: 8, p: 2 } }).hash("Tr0ub4dor&3")), "another p").toBe(
      true,
    );
    expect(current.needsRehash(await current.hash("Tr0ub4dor&3")), "the same parameters").toBe(false);
  });

  it("needsRehash is true for a hash with a shorter salt or key than the hasher makes", () => {
    const hasher = fast();
    expect(hasher.needsRehash(`$scrypt$ln=4,r=8,p=1$${b64(Buffer.alloc(8, 1))}$${KEY}`), "an 8-byte salt").toBe(true);
    expect(hasher.needsRehash(`$scrypt$ln=4,r=8,p=1$${SALT}$${b64(Buffer.alloc(16, 1))}`), "a 16-byte key").toBe(true);
  });

  it("verifyAndUpgrade hands back a fresh hash at the new cost when the password is right", async () => {
    const old = await fast().hash("Tr0ub4dor&3");
    const current = fast({ cost: { log2N: 6, r: 8, p: 1 } });
    const outcome = await current.verifyAndUpgrade("Tr0ub4dor&3", old);
    expect(outcome.valid).toBe(true);
    expect(outcome.upgradedHash, "an outdated hash must be replaced at the next successful login").not.toBeNull();
    expect(parsePhc(outcome.upgradedHash!).log2N, "the new hash is made at the hasher's cost").toBe(6);
    expect(
      await current.verify("Tr0ub4dor&3", outcome.upgradedHash!),
      "the new hash must verify the same password",
    ).toBe(true);
    expect(await current.verifyAndUpgrade("Tr0ub4dor&3", outcome.upgradedHash!)).toEqual({
      valid: true,
      upgradedHash: null,
    });
  });

  it("a wrong password never produces a new hash", async () => {
    const old = await fast().hash("Tr0ub4dor&3");
    const outcome = await fast({ cost: { log2N: 6, r: 8, p: 1 } }).verifyAndUpgrade("guess", old);
    expect(outcome, "rehashing a wrong password would let anyone replace a user's password by failing a login").toEqual(
      {
        valid: false,
        upgradedHash: null,
      },
    );
  });

  it("upgrades a password set under an older, shorter minimum", async () => {
    const old = await fast({ minLength: 4 }).hash("tiny");
    const outcome = await fast({ cost: { log2N: 6, r: 8, p: 1 } }).verifyAndUpgrade("tiny", old);
    expect(outcome.valid).toBe(true);
    expect(
      outcome.upgradedHash,
      "the user just proved the password: refusing the upgrade only keeps the weaker hash",
    ).not.toBeNull();
  });
});

describe("never blocks the event loop", () => {
  it("hashes and verifies on the thread pool: the event loop keeps turning while scrypt runs", async () => {
    // At 16 MiB a hash takes tens of milliseconds. With scryptSync the loop stops for all of
    // it; with scrypt it keeps turning. Compared within this run, so load cannot flip it.
    const hasher = fast({ cost: { log2N: 14, r: 8, p: 1 } });
    let last = performance.now();
    let longestGap = 0;
    let running = true;
    const beat = () => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      if (running) setImmediate(beat);
    };
    setImmediate(beat);
    const started = performance.now();
    const stored = await hasher.hash("Tr0ub4dor&3");
    expect(await hasher.verify("Tr0ub4dor&3", stored)).toBe(true);
    const finished = performance.now();
    const total = finished - started;
    running = false;
    // The stretch since the last beat counts too: with scryptSync the loop may never turn at all.
    longestGap = Math.max(longestGap, finished - last);
    expect(
      longestGap,
      `the longest stall of the event loop (${longestGap.toFixed(1)} ms) must be a small part of ` +
        `the ${total.toFixed(1)} ms ` +
        "the two hashes took: scryptSync on a request path stops every other request for the whole hash",
    ).toBeLessThan(total / 2);
  });
});

// Last in the file on purpose: the one hash at full cost (about half a second).
describe("the defaults, at full cost", () => {
  it("with no options, hashes at OWASP's scrypt minimum: N = 2^17 (ln=17), r=8, p=1", async () => {
    // The one full-cost hash of the suite (about half a second). It also proves maxmem is
    // raised: at N = 2^17 scrypt throws with Node's default limit of 32 MiB.
    const hasher = new PasswordHasher();
    const stored = await hasher.hash("correct horse battery staple");
    const parsed = parsePhc(stored);
    expect(
      { log2N: parsed.log2N, r: parsed.r, p: parsed.p },
      "OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1",
    ).toEqual({
      log2N: 17,
      r: 8,
      p: 1,
    });
    expect(hasher.needsRehash(stored), "a fresh hash at the hasher's own parameters is up to date").toBe(false);
  });
});
