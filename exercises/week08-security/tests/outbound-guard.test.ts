// The SSRF guard against a pretend internet: a resolver stub and a dialer that maps the
// "public" and "internal" addresses to local HTTP servers. Nothing here touches the network.
import { once } from "node:events";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isPublicAddress, OutboundError, type OutboundPolicy, safeGet, vetOutboundUrl } from "../src/outbound-guard";
import type { DialTarget, OutboundNetwork } from "../src/outbound-network";

const PARTNER = "93.184.215.14"; // public.example: a partner's web server
const OTHER = "93.184.215.15"; // other.example: another public server
const INTERNAL = "10.0.0.5"; // internal.example: an admin panel only the API can reach
const METADATA = "169.254.169.254"; // the cloud metadata service

interface Server {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener): Promise<Server> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    handler(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const redirect =
  (location: string, status = 302): http.RequestListener =>
  (_req, res) => {
    res.writeHead(status, { location }).end();
  };

let partner: Server;
let other: Server;
let internal: Server;

beforeAll(async () => {
  const routes: Record<string, http.RequestListener> = {
    "/hello": (req, res) =>
      res.setHeader("content-type", "application/json").end(JSON.stringify({ hello: "world", host: req.headers.host })),
    "/to-internal-name": redirect("http://internal.example/admin"),
    "/to-metadata": redirect(`http://${METADATA}/latest/meta-data/iam/security-credentials/`, 301),
    "/to-internal-ip": redirect(`http://${INTERNAL}/admin`, 307),
    "/to-decimal-loopback": redirect("http://2130706433/admin", 308),
    "/to-file": redirect("file:///etc/passwd"),
    "/to-redis-port": redirect("http://public.example:6379/"),
    "/to-garbage": redirect("http://[oops/"),
    "/to-other": redirect("http://other.example/ok", 303),
    "/relative": redirect("/hello"),
    "/loop": redirect("/loop"),
    "/big": (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (let i = 0; i < 40; i++) res.write(Buffer.alloc(64 * 1024, 120));
      res.end();
    },
    "/big-declared": (_req, res) => res.writeHead(200, { "content-length": String(8 * 1024 * 1024) }).write("x"),
    "/slow": () => {
      // Accepts and never answers: the guard's deadline has to end it.
    },
  };
  partner = await serve((req, res) => (routes[req.url ?? ""] ?? ((_q, r) => r.writeHead(404).end()))(req, res));
  other = await serve((_req, res) => res.end("other"));
  internal = await serve((_req, res) => res.end("the admin panel: you should never see this"));
});
afterAll(async () => {
  await Promise.all([partner.close(), other.close(), internal.close()]);
});

/** The pretend internet: names resolve from a table; addresses dial local servers. */
function fakeNetwork(names: Record<string, readonly string[] | (() => readonly string[])> = {}) {
  const table: Record<string, readonly string[] | (() => readonly string[])> = {
    "public.example": [PARTNER],
    "other.example": [OTHER],
    "internal.example": [INTERNAL],
    "metadata.example": [METADATA],
    "loopback6.example": ["::1"],
    "mixed.example": [PARTNER, INTERNAL],
    "nothing.example": [],
    ...names,
  };
  const dialed: DialTarget[] = [];
  const lookups: string[] = [];
  const ports: Record<string, number> = {
    [`${PARTNER}:80`]: partner.port,
    [`${OTHER}:80`]: other.port,
    [`${INTERNAL}:80`]: internal.port,
    [`${METADATA}:80`]: internal.port,
  };
  const network: OutboundNetwork = {
    resolve: async (hostname) => {
      lookups.push(hostname);
      const entry = table[hostname];
      if (entry === undefined)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return typeof entry === "function" ? entry() : entry;
    },
    connect: (target) => {
      dialed.push(target);
      const port = ports[`${target.address}:${target.port}`];
      // An address with nothing behind it: a refused connection, as on a real network.
      return net.connect({ host: "127.0.0.1", port: port ?? 1 });
    },
  };
  return { network, dialed, lookups };
}

let internalHitsBefore = 0;
beforeEach(() => {
  internalHitsBefore = internal.hits.length;
});
const internalHits = () => internal.hits.slice(internalHitsBefore);

/** The promise's outcome, or "STILL RUNNING" after ms: a hang fails with a message, not a test timeout. */
async function within(ms: number, promise: Promise<string>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, ms, "STILL RUNNING");
  });
  try {
    return await Promise.race([promise, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

async function outboundError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error, "the guard refuses with an OutboundError").toBeInstanceOf(OutboundError);
    expect((error as Error).message.length, "and says why, for the logs").toBeGreaterThan(0);
    return (error as OutboundError).code;
  }
  return "ACCEPTED";
}

describe("isPublicAddress", () => {
  const refused = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "all of 127/8 is loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private (172.16/12)"],
    ["172.31.255.255", "the top of 172.16/12"],
    ["192.168.1.1", "private"],
    [METADATA, "link-local: the cloud metadata service"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "this host: connects to localhost on Linux"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["192.0.2.10", "documentation"],
    ["::1", "IPv6 loopback"],
    ["::", "IPv6 unspecified"],
    ["fd00:ec2::254", "AWS's IPv6 metadata endpoint (unique local)"],
    ["fc00::1", "unique local"],
    ["fe80::1", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:a9fe:a9fe", "IPv4-mapped metadata, in hex"],
    ["64:ff9b::a9fe:a9fe", "NAT64 of the metadata address"],
    ["2001:db8::1", "IPv6 documentation"],
    ["not-an-ip", "not an address at all"],
    ["", "empty"],
  ] as const;
  it.each(refused)("refuses %s (%s)", (ip, why) => {
    expect(isPublicAddress(ip), `${ip}: ${why}`).toBe(false);
  });

  const allowed = [
    ["8.8.8.8", "a public resolver"],
    [PARTNER, "a public web server"],
    ["172.15.255.255", "just below 172.16/12: a prefix match on '172.1' gets this wrong"],
    ["172.32.0.1", "just above 172.16/12"],
    ["100.63.255.255", "just below 100.64/10"],
    ["2606:4700:4700::1111", "public IPv6"],
    ["2a00:1450:4001:80b::200e", "public IPv6"],
  ] as const;
  it.each(allowed)("allows %s (%s)", (ip, why) => {
    expect(isPublicAddress(ip), `${ip}: ${why}`).toBe(true);
  });
});

describe("vetOutboundUrl: scheme, port, and every address after DNS", () => {
  it("answers the address to dial for a public name and for a public literal", async () => {
    const { network } = fakeNetwork();
    const vetted = await vetOutboundUrl("http://public.example/hooks?id=1", { network });
    expect([vetted.address, vetted.port, vetted.url.hostname]).toEqual([PARTNER, 80, "public.example"]);
    expect((await vetOutboundUrl("https://[2606:4700:4700::1111]/", { network })).port).toBe(443);
  });

  it.each([
    ["http://127.0.0.1/", "loopback"],
    ["http://[::1]/", "IPv6 loopback"],
    [`http://${METADATA}/latest/meta-data/`, "metadata"],
    ["http://[fd00:ec2::254]/", "IPv6 metadata"],
    ["http://2130706433/", "127.0.0.1 written as one decimal number"],
    ["http://0x7f.0.0.1/", "127.0.0.1 in hex"],
    ["http://0177.0.0.1/", "127.0.0.1 in octal"],
    ["http://127.1/", "127.0.0.1, shortened"],
    ["http://[::ffff:127.0.0.1]/", "IPv4-mapped"],
    ["http://public.example@127.0.0.1/", "a user name that looks like a host"],
  ])("refuses %s (%s)", async (url, why) => {
    expect(
      await outboundError(vetOutboundUrl(url, fakeNetwork())),
      `${why}: parse the URL, then check the address it names`,
    ).toBe("ERR_OUTBOUND_BLOCKED");
  });

  it("refuses a name that resolves to a private, metadata or loopback address", async () => {
    for (const host of ["internal.example", "metadata.example", "loopback6.example"]) {
      expect(
        await outboundError(vetOutboundUrl(`http://${host}/`, fakeNetwork())),
        `${host}: the check must be on what the name resolves to`,
      ).toBe("ERR_OUTBOUND_BLOCKED");
    }
  });

  it("refuses a name when any one of its addresses is private", async () => {
    expect(
      await outboundError(vetOutboundUrl("http://mixed.example/", fakeNetwork())),
      "the attacker orders the records: check all of them",
    ).toBe("ERR_OUTBOUND_BLOCKED");
  });

  it("answers ERR_OUTBOUND_UNRESOLVED for a name without addresses or that fails to resolve", async () => {
    expect(await outboundError(vetOutboundUrl("http://nothing.example/", fakeNetwork()))).toBe(
      "ERR_OUTBOUND_UNRESOLVED",
    );
    expect(await outboundError(vetOutboundUrl("http://no-such-host.example/", fakeNetwork()))).toBe(
      "ERR_OUTBOUND_UNRESOLVED",
    );
  });

  it("allows http and https only", async () => {
    for (const url of [
      "file:///etc/passwd",
      "gopher://public.example/_SET%20x",
      "ftp://public.example/",
      "dict://public.example:11211/",
    ]) {
      expect(await outboundError(vetOutboundUrl(url, fakeNetwork())), url).toBe("ERR_OUTBOUND_BLOCKED");
    }
    expect(await outboundError(vetOutboundUrl("not a url", fakeNetwork()))).toBe("ERR_OUTBOUND_BLOCKED");
  });

  it("allows only the allowed ports: 80 and 443 unless configured", async () => {
    const { network } = fakeNetwork();
    for (const url of ["http://public.example:22/", "http://public.example:6379/", "https://public.example:8443/"]) {
      expect(
        await outboundError(vetOutboundUrl(url, { network })),
        `${url}: a port scanner with your server's address`,
      ).toBe("ERR_OUTBOUND_BLOCKED");
    }
    expect((await vetOutboundUrl("http://public.example:8080/", { network, allowedPorts: [8080] })).port).toBe(8080);
  });
});

describe("safeGet: redirects vetted hop by hop, and only vetted addresses dialed", () => {
  const policy = (network: OutboundNetwork, extra: Partial<OutboundPolicy> = {}): OutboundPolicy => ({
    network,
    timeoutMs: 3000,
    ...extra,
  });

  it("fetches from the vetted address with the URL's host in the Host header", async () => {
    const { network, dialed } = fakeNetwork();
    const res = await safeGet("http://public.example/hello", policy(network));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ hello: "world", host: "public.example" });
    expect(res.url).toBe("http://public.example/hello");
    expect(dialed.map((d) => [d.address, d.port, d.hostname, d.tls])).toEqual([[PARTNER, 80, "public.example", false]]);
  });

  it.each([
    ["/to-internal-name", "a name that resolves inside"],
    ["/to-metadata", "the metadata service"],
    ["/to-internal-ip", "a private literal"],
    ["/to-decimal-loopback", "loopback spelled as a number"],
    ["/to-file", "another scheme"],
    ["/to-redis-port", "a disallowed port"],
    ["/to-garbage", "a Location that is not a URL"],
  ])("refuses a redirect %s (%s) and never reaches the inside", async (path, why) => {
    const { network } = fakeNetwork();
    expect(
      await outboundError(safeGet(`http://public.example${path}`, policy(network))),
      `${why}: a redirect is a new URL, vet it again`,
    ).toBe("ERR_OUTBOUND_BLOCKED");
    expect(internalHits(), "following the redirect unchecked is the SSRF").toEqual([]);
  });

  it("follows a redirect to another public host, and a relative one", async () => {
    const { network } = fakeNetwork();
    const elsewhere = await safeGet("http://public.example/to-other", policy(network));
    expect([elsewhere.status, elsewhere.body.toString(), elsewhere.url]).toEqual([
      200,
      "other",
      "http://other.example/ok",
    ]);
    const relative = await safeGet("http://public.example/relative", policy(network));
    expect(relative.url, "Location is resolved against the URL that redirected").toBe("http://public.example/hello");
  });

  it("stops after maxRedirects", async () => {
    const { network } = fakeNetwork();
    const before = partner.hits.filter((h) => h === "/loop").length;
    expect(await outboundError(safeGet("http://public.example/loop", policy(network)))).toBe("ERR_OUTBOUND_REDIRECTS");
    expect(partner.hits.filter((h) => h === "/loop").length - before, "the first request and 3 redirects").toBe(4);
    expect(await outboundError(safeGet("http://public.example/loop", policy(network, { maxRedirects: 0 })))).toBe(
      "ERR_OUTBOUND_REDIRECTS",
    );
  });

  it("dials the address it vetted, even when the name resolves elsewhere a moment later (DNS rebinding)", async () => {
    let answers = 0;
    const { network, dialed } = fakeNetwork({ "rebind.example": () => (answers++ === 0 ? [PARTNER] : [INTERNAL]) });
    const res = await safeGet("http://rebind.example/hello", policy(network));
    expect(res.status).toBe(200);
    expect(
      dialed.map((d) => d.address),
      "resolve once, vet, and connect to that very address",
    ).toEqual([PARTNER]);
    expect(internalHits(), "a second lookup at connect time is the attacker's second answer").toEqual([]);
  });

  it("bounds the whole fetch by timeoutMs, a server that never answers included", async () => {
    const { network } = fakeNetwork();
    expect(await outboundError(safeGet("http://public.example/slow", policy(network, { timeoutMs: 200 })))).toBe(
      "ERR_OUTBOUND_TIMEOUT",
    );
    const hanging: OutboundNetwork = { ...network, resolve: () => new Promise(() => {}) };
    const outcome = await within(
      3000,
      outboundError(safeGet("http://public.example/hello", policy(hanging, { timeoutMs: 200 }))),
    );
    expect(outcome, "a resolver that never answers: DNS is part of the fetch, and timeoutMs bounds it too").toBe(
      "ERR_OUTBOUND_TIMEOUT",
    );
  });

  it("bounds the body by maxResponseBytes, whether the server declares its length or not", async () => {
    const { network } = fakeNetwork();
    expect(await outboundError(safeGet("http://public.example/big", policy(network)))).toBe("ERR_OUTBOUND_TOO_LARGE");
    expect(await outboundError(safeGet("http://public.example/big-declared", policy(network)))).toBe(
      "ERR_OUTBOUND_TOO_LARGE",
    );
    const small = await safeGet("http://public.example/big", policy(network, { maxResponseBytes: 4 * 1024 * 1024 }));
    expect(small.body.length).toBe(40 * 64 * 1024);
  });
});
