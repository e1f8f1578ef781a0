// The forgery suite: every token here is an attack, and every one must be refused.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, importJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "#fixtures/clock";
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  InvalidTokenError,
  jwksKeyResolver,
  type KeyResolver,
} from "../src/access-tokens";
import {
  ALGORITHMS,
  AUDIENCE,
  b64url,
  forge,
  ISSUER,
  jwksOf,
  makeKeys,
  NOW_S,
  publicPem,
  T0,
  type TestKeys,
  unsecured,
  validClaims,
} from "./support/jwt-keys";

let keys: TestKeys;
let attackerHost: { url: string; requests: string[]; close(): Promise<void> };

/** The attacker's web server: it serves their JWKS and certificate, and counts who comes asking. */
async function startAttackerHost(jwks: unknown) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    res.setHeader("content-type", req.url?.endsWith(".pem") ? "application/pem-certificate-chain" : "application/json");
    res.end(
      req.url?.endsWith(".pem")
        ? "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        : JSON.stringify(jwks),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  keys = await makeKeys();
  attackerHost = await startAttackerHost(jwksOf(keys.attacker));
});
afterAll(async () => {
  await attackerHost.close();
});

/** A resolver that records every kid it is asked about. */
function spied(inner: KeyResolver): { resolver: KeyResolver; kids: string[] } {
  const kids: string[] = [];
  return {
    kids,
    resolver: (kid, alg) => {
      kids.push(kid);
      return inner(kid, alg);
    },
  };
}

function verifier(resolver?: KeyResolver, clockToleranceSeconds?: number): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ALGORITHMS,
    keys: resolver ?? jwksKeyResolver(jwksOf(keys.current, keys.rsa)),
    clock: manualClock(T0),
    clockToleranceSeconds,
  });
}

async function expectRefused(token: string, why: string, verify: AccessTokenVerifier = verifier()): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await verify(token);
  } catch (error) {
    expect(error, `${why} (it must be an InvalidTokenError)`).toBeInstanceOf(InvalidTokenError);
    return;
  }
  expect.fail(`${why}: the attack token was ACCEPTED as ${JSON.stringify(outcome)}`);
}

const segments = (token: string) => token.split(".") as [string, string, string];

describe("forged algorithms", () => {
  it("refuses alg none, with or without something in the signature slot", async () => {
    const none = unsecured({ alg: "none", kid: "k-2026-01", typ: "at+jwt" }, validClaims());
    await expectRefused(none, "RFC 8725 §2.1: alg none means anyone can write any token");
    await expectRefused(`${none}${b64url("sig")}`, "alg none with a fake signature");
    await expectRefused(
      unsecured({ alg: "None", kid: "k-2026-01", typ: "at+jwt" }, validClaims()),
      "alg None (capitalised)",
    );
  });

  it("refuses an HS256 token keyed with the RSA public key (the classic algorithm confusion)", async () => {
    const pem = await publicPem(keys.rsa);
    for (const secret of [pem, JSON.stringify(keys.rsa.publicJwk)]) {
      const token = await forge(keys.rsa, { header: { alg: "HS256" }, signWith: new TextEncoder().encode(secret) });
      await expectRefused(token, "the public key is public: as an HMAC secret it lets anyone sign");
    }
  });

  it("refuses a correctly signed token whose alg is not on the allow-list", async () => {
    // The legacy RSA key is published without an alg member, so the key alone does not stop
    // PS512. Only the verifier's allow-list does.
    const ps512 = (await importJWK(await exportJWK(keys.rsa.privateKey), "PS512")) as CryptoKey;
    const token = await forge(keys.rsa, { header: { alg: "PS512" }, signWith: ps512 });
    await expectRefused(
      token,
      "RFC 8725 §3.1: algorithms must be an allow-list; left open, the token picks its own algorithm",
    );
  });

  it("compares alg exactly: es256 is not ES256", async () => {
    const [, payload, signature] = segments(await forge(keys.current));
    const header = b64url(JSON.stringify({ alg: "es256", kid: "k-2026-01", typ: "at+jwt" }));
    await expectRefused(`${header}.${payload}.${signature}`, "an allow-list that lowercases or trims is not exact");
  });
});

describe("broken and tampered signatures", () => {
  it("refuses a stripped signature", async () => {
    const [header, payload] = segments(await forge(keys.current));
    await expectRefused(`${header}.${payload}.`, "no signature, no trust");
  });

  it("refuses an altered signature", async () => {
    const [header, payload, signature] = segments(await forge(keys.current));
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    await expectRefused(`${header}.${payload}.${flipped}`, "one changed character");
  });

  it("refuses a tampered payload that keeps the original signature", async () => {
    const [header, , signature] = segments(await forge(keys.current));
    const escalated = b64url(
      JSON.stringify(validClaims({ sub: "admin", scope: "expenses:read expenses:approve admin" })),
    );
    await expectRefused(
      `${header}.${escalated}.${signature}`,
      "the signature covers the payload: any change must break it",
    );
  });

  it("refuses a token with two segments, or four", async () => {
    const token = await forge(keys.current);
    const [header, payload, signature] = segments(token);
    await expectRefused(`${header}.${payload}`, "two segments");
    await expectRefused(`${token}.${signature}`, "four segments");
  });

  it("refuses characters outside base64url, even where jose would forgive them", async () => {
    const token = await forge(keys.current);
    const [header, payload, signature] = segments(token);
    const cases = {
      "padding on the signature": `${token}==`,
      "a space inside the signature": `${header}.${payload}.${signature.slice(0, 8)} ${signature.slice(8)}`,
      "a line break inside the signature": `${header}.${payload}.${signature.slice(0, 8)}\n${signature.slice(8)}`,
      "base64 (not url) characters": `${header}.${payload}.${signature.slice(0, 8)}+/${signature.slice(10)}`,
      "a leading space": ` ${token}`,
    };
    for (const [name, variant] of Object.entries(cases)) {
      await expectRefused(
        variant,
        `draft-ietf-oauth-rfc8725bis: reject characters outside base64url and '.' (${name})`,
      );
    }
  });
});

describe("claims that do not fit this API", () => {
  it("refuses a token that expired one second ago at tolerance 0", async () => {
    await expectRefused(
      await forge(keys.current, { claims: { exp: NOW_S - 1 } }),
      "exp = now − 1",
      verifier(undefined, 0),
    );
  });

  it("refuses a token whose nbf is in the future", async () => {
    await expectRefused(
      await forge(keys.current, { claims: { nbf: NOW_S + 3600 } }),
      "a token for later is not a token for now",
    );
  });

  it("refuses the wrong aud, including an aud array without this API", async () => {
    await expectRefused(
      await forge(keys.current, { claims: { aud: "https://billing.example.com" } }),
      "RFC 8725 §3.9: a token for another API",
    );
    await expectRefused(
      await forge(keys.current, { claims: { aud: ["https://billing.example.com", "https://api.example.co"] } }),
      "no member is this API",
    );
  });

  it("refuses the right key with the wrong iss", async () => {
    await expectRefused(
      await forge(keys.current, { claims: { iss: "https://evil.example.com" } }),
      "RFC 8725 §3.8: validate the issuer",
    );
  });

  it("refuses an unknown crit header", async () => {
    const token = await forge(keys.current, {
      header: { crit: ["urn:example:must-understand"], "urn:example:must-understand": true },
      crit: { "urn:example:must-understand": true },
    });
    await expectRefused(token, "RFC 7515 §4.1.11: a critical extension the verifier does not understand means reject");
  });
});

describe("keys the token tries to choose", () => {
  it("never fetches a jku or x5u the token points at, and never trusts an embedded jwk", async () => {
    const before = attackerHost.requests.length;
    const viaJku = await forge(keys.attacker, { header: { jku: `${attackerHost.url}/jwks.json` } });
    const viaJkuAndOurKid = await forge(keys.attacker, {
      header: { kid: "k-2026-01", jku: `${attackerHost.url}/jwks.json` },
    });
    const viaX5u = await forge(keys.attacker, { header: { x5u: `${attackerHost.url}/cert.pem` } });
    const { kid: _kid, use: _use, ...embedded } = keys.attacker.publicJwk;
    const viaJwk = await forge(keys.attacker, { header: { jwk: embedded } });
    await expectRefused(viaJku, "a key set from a URL in the token is the attacker's key set");
    await expectRefused(viaJkuAndOurKid, "jku with one of our kids");
    await expectRefused(viaX5u, "a certificate from a URL in the token");
    await expectRefused(viaJwk, "an embedded jwk: the token brings its own key");
    expect(
      attackerHost.requests.slice(before),
      "RFC 8725 §3.10 and 8725bis: jku and x5u are attacker input; fetching them is an SSRF and a key swap",
    ).toEqual([]);
  });

  it("never hands a kid with a path, SQL or a NUL byte to the key store", async () => {
    const store = spied(jwksKeyResolver(jwksOf(keys.current)));
    const verify = verifier(store.resolver);
    for (const kid of [
      "../../../../dev/null",
      "' UNION SELECT 'secret' AS key --",
      "k-2026-01\u0000.pem",
      "x".repeat(200),
    ]) {
      await expectRefused(
        await forge(keys.current, { header: { kid } }),
        `kid ${JSON.stringify(kid.slice(0, 30))}`,
        verify,
      );
    }
    await expectRefused(await forge(keys.current, { header: { kid: undefined } }), "no kid at all", verify);
    expect(store.kids, "a kid that does not match KID_PATTERN must be refused before any key store sees it").toEqual(
      [],
    );
  });

  it("refuses a 64 KB token before any key lookup or signature check", async () => {
    const store = spied(jwksKeyResolver(jwksOf(keys.current)));
    const verify = verifier(store.resolver);
    // Correctly signed by our own key: only the size is wrong with it.
    const huge = await forge(keys.current, { claims: { padding: "x".repeat(64 * 1024) } });
    await expectRefused(huge, "a token over maxTokenBytes", verify);
    expect(
      store.kids,
      "size is the first and cheapest check: no lookup, no crypto for 64 KB of attacker input",
    ).toEqual([]);
    const normal = await verify(await forge(keys.current));
    expect(store.kids, "and a normal token does reach the store").toEqual(["k-2026-01"]);
    expect(normal.subject).toBe("user-42");
  });

  it("accepts a token of exactly maxTokenBytes and refuses one byte more", async () => {
    const token = await forge(keys.current);
    const withLimit = (maxTokenBytes: number) =>
      createAccessTokenVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ALGORITHMS,
        keys: jwksKeyResolver(jwksOf(keys.current)),
        clock: manualClock(T0),
        maxTokenBytes,
      });
    expect((await withLimit(token.length)(token)).subject, "at the limit").toBe("user-42");
    await expectRefused(token, "one byte over the limit", withLimit(token.length - 1));
  });

  it("honours a smaller maxTokenBytes", async () => {
    const verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ALGORITHMS,
      keys: jwksKeyResolver(jwksOf(keys.current)),
      clock: manualClock(T0),
      maxTokenBytes: 200,
    });
    await expectRefused(await forge(keys.current), "the token is longer than 200 bytes", verify);
  });

  it("refuses a token the attacker signed with their own key and our kid", async () => {
    await expectRefused(
      await forge(keys.attacker, { header: { kid: "k-2026-01" } }),
      "the kid names our key; the signature is not ours",
    );
  });
});
