/**
 * The saga's three services, faked: real node:http servers on ephemeral loopback ports that
 * keep their state in memory, follow the contract in src/saga-types.ts, and honour
 * Idempotency-Key the way a well-behaved service does (the first answer is replayed for the
 * same key and request; the same key on another request is a 422). A test can make the next
 * calls of a route fail, before or after the work was done (a lost answer).
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseItem } from "structured-headers";
import type { OrderLine, ServiceEndpoints } from "../../src/saga-types";

export type Route = "reserve" | "release" | "charge" | "refund" | "ship";

export interface RecordedCall {
  /** Arrival order across the three services. */
  readonly seq: number;
  readonly route: Route | "unknown";
  readonly path: string;
  /** The Idempotency-Key's String value, or undefined if missing or malformed. */
  readonly key: string | undefined;
  readonly body: unknown;
  readonly status: number;
  /** Answered from the idempotency store, without doing the work again. */
  readonly replayed: boolean;
}

interface Answer {
  status: number;
  body: unknown;
}

interface Failure {
  remaining: number;
  status: number;
  afterEffect: boolean;
}

const ROUTES: [Route, "inventory" | "payments" | "shipping", RegExp][] = [
  ["reserve", "inventory", /^\/reservations$/],
  ["release", "inventory", /^\/reservations\/([^/]+)\/release$/],
  ["charge", "payments", /^\/charges$/],
  ["refund", "payments", /^\/charges\/([^/]+)\/refund$/],
  ["ship", "shipping", /^\/shipments$/],
];

const problem = (status: number, title: string): Answer => ({ status, body: { type: "about:blank", title, status } });

export interface FakeWorld {
  readonly endpoints: ServiceEndpoints;
  readonly calls: RecordedCall[];
  /** Units in stock per SKU. */
  readonly stock: Map<string, number>;
  readonly reservations: Map<string, { orderId: string; items: OrderLine[]; released: boolean }>;
  readonly charges: Map<string, { orderId: string; amountCents: number; refunded: boolean }>;
  readonly shipments: Map<string, { orderId: string; reservationId: string }>;
  /** The routes of the calls that did work (not replays, not failures), in order. */
  effects(): Route[];
  /** The next `times` calls of `route` answer `status` (default 503); with afterEffect the work is done first. */
  failNext(route: Route, times: number, options?: { status?: number; afterEffect?: boolean }): void;
  close(): Promise<void>;
}

/** Starts inventory, payments and shipping. Customer "cus-broke" is declined; address "nowhere" is undeliverable. */
export async function startFakeServices(initialStock: Record<string, number>): Promise<FakeWorld> {
  let seq = 0;
  let ids = 0;
  const calls: RecordedCall[] = [];
  const effectLog: Route[] = [];
  const failures = new Map<Route, Failure>();
  const stock = new Map(Object.entries(initialStock));
  const reservations: FakeWorld["reservations"] = new Map();
  const charges: FakeWorld["charges"] = new Map();
  const shipments: FakeWorld["shipments"] = new Map();

  function work(route: Route, match: RegExpExecArray, body: Record<string, unknown>): Answer {
    switch (route) {
      case "reserve": {
        const items = body.items as OrderLine[];
        const enough = items.every((item) => (stock.get(item.sku) ?? 0) >= item.quantity);
        if (!enough) return problem(422, "Not enough stock");
        for (const item of items) stock.set(item.sku, stock.get(item.sku)! - item.quantity);
        const reservationId = `res-${++ids}`;
        reservations.set(reservationId, { orderId: String(body.orderId), items, released: false });
        return { status: 201, body: { reservationId } };
      }
      case "release": {
        const reservation = reservations.get(decodeURIComponent(match[1]!));
        if (!reservation) return problem(404, "No such reservation");
        if (!reservation.released) {
          for (const item of reservation.items) stock.set(item.sku, stock.get(item.sku)! + item.quantity);
        }
        reservation.released = true;
        return { status: 200, body: { released: true } };
      }
      case "charge": {
        if (body.customerId === "cus-broke") return problem(402, "Payment declined");
        const chargeId = `ch-${++ids}`;
        const charge = { orderId: String(body.orderId), amountCents: Number(body.amountCents), refunded: false };
        charges.set(chargeId, charge);
        return { status: 201, body: { chargeId } };
      }
      case "refund": {
        const charge = charges.get(decodeURIComponent(match[1]!));
        if (!charge) return problem(404, "No such charge");
        charge.refunded = true;
        return { status: 200, body: { refunded: true } };
      }
      case "ship": {
        const reservation = reservations.get(String(body.reservationId));
        if (!reservation || reservation.released) return problem(422, "Nothing reserved to ship");
        if (body.address === "nowhere") return problem(422, "Undeliverable address");
        const shipmentId = `sh-${++ids}`;
        shipments.set(shipmentId, { orderId: String(body.orderId), reservationId: String(body.reservationId) });
        return { status: 201, body: { shipmentId } };
      }
    }
  }

  function service(name: "inventory" | "payments" | "shipping") {
    const remembered = new Map<string, { fingerprint: string; answer: Answer }>();
    return http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const path = (req.url ?? "/").split("?")[0]!;
        let body: Record<string, unknown> = {};
        try {
          body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
        } catch {
          body = {};
        }
        let key: string | undefined;
        try {
          const [bare] = parseItem(String(req.headers["idempotency-key"] ?? ""));
          key = typeof bare === "string" && bare.length > 0 ? bare : undefined;
        } catch {
          key = undefined;
        }
        const matches = ([, owner, pattern]: (typeof ROUTES)[number]) => owner === name && pattern.test(path);
        const found = req.method === "POST" ? ROUTES.find(matches) : undefined;
        const record = (answer: Answer, route: Route | "unknown", replayed: boolean) => {
          calls.push({ seq: ++seq, route, path, key, body, status: answer.status, replayed });
          const type = answer.status < 300 ? "application/json" : "application/problem+json";
          res.writeHead(answer.status, { "content-type": type });
          res.end(JSON.stringify(answer.body));
        };
        if (!found) return record(problem(404, "No such route"), "unknown", false);
        const [route, , pattern] = found;
        const json = /^application\/json\b/.test(req.headers["content-type"] ?? "");
        if (!json) return record(problem(415, "Send JSON (Content-Type: application/json)"), route, false);
        if (key === undefined) return record(problem(400, "Idempotency-Key (a String) is required"), route, false);
        const fingerprint = `${path} ${JSON.stringify(body)}`;
        const previous = remembered.get(key);
        if (previous) {
          const reused = previous.fingerprint !== fingerprint;
          if (reused) return record(problem(422, "Key reused for another request"), route, false);
          return record(previous.answer, route, true);
        }
        const failure = failures.get(route);
        if (failure && failure.remaining > 0) {
          failure.remaining -= 1;
          if (failure.afterEffect) {
            const answer = work(route, pattern.exec(path)!, body);
            remembered.set(key, { fingerprint, answer });
            if (answer.status < 300) effectLog.push(route);
          }
          return record(problem(failure.status, "Temporarily unavailable"), route, false);
        }
        const answer = work(route, pattern.exec(path)!, body);
        // Like a real service, a definite answer is kept for the key; so is a refusal.
        remembered.set(key, { fingerprint, answer });
        if (answer.status < 300) effectLog.push(route);
        record(answer, route, false);
      });
    });
  }

  const servers = { inventory: service("inventory"), payments: service("payments"), shipping: service("shipping") };
  const endpoints: Record<string, string> = {};
  for (const [name, server] of Object.entries(servers)) {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    endpoints[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  return {
    endpoints: endpoints as unknown as ServiceEndpoints,
    calls,
    stock,
    reservations,
    charges,
    shipments,
    effects: () => [...effectLog],
    failNext: (route, times, options = {}) => {
      const { status = 503, afterEffect = false } = options;
      failures.set(route, { remaining: times, status, afterEffect });
    },
    close: async () => {
      await Promise.all(
        Object.values(servers).map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
