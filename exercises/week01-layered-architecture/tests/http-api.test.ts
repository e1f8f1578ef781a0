/**
 * http-api: the HTTP adapter over the order use cases, driven through supertest.
 *
 * The service behind the app is a test double of the OrderUseCases port: these tests check
 * what the HTTP layer owns (parsing, validation, status codes, DTOs, problem details) and can
 * make the service fail in every way it may, including ways no real service would on demand.
 */
import request from "supertest";
import { describe, expect, it, vi } from "vitest";
import { ConcurrencyError, InvalidTransitionError, NotFoundError, ValidationError } from "../src/errors";
import { createOrdersApp } from "../src/http/orders-app";
import { ORDER_LIMITS, type Order } from "../src/order";
import type { OrderUseCases } from "../src/ports";

const ORDER_ID = "6f1c2b1e-9d4a-4c3b-8e2f-1a2b3c4d5e6f";
const PROBLEMS = "https://orders.example.com/problems/";

const ORDER: Order = {
  id: ORDER_ID,
  customerId: "cus-42",
  status: "pending",
  lines: [
    { sku: "KB-101", quantity: 2, unitPriceCents: 4_999 },
    { sku: "CABLE-1", quantity: 3, unitPriceCents: 250 },
  ],
  totalCents: 10_748,
  createdAt: new Date("2026-02-03T09:30:00.123Z"),
  updatedAt: new Date("2026-02-03T09:31:00.456Z"),
  version: 7,
};

/** What clients must see for ORDER: no version, ISO instants, a total per line. */
const ORDER_DTO = {
  id: ORDER_ID,
  customerId: "cus-42",
  status: "pending",
  lines: [
    { sku: "KB-101", quantity: 2, unitPriceCents: 4_999, lineTotalCents: 9_998 },
    { sku: "CABLE-1", quantity: 3, unitPriceCents: 250, lineTotalCents: 750 },
  ],
  totalCents: 10_748,
  createdAt: "2026-02-03T09:30:00.123Z",
  updatedAt: "2026-02-03T09:31:00.456Z",
};

const VALID_BODY = {
  customerId: "cus-42",
  lines: [
    { sku: "KB-101", quantity: 2 },
    { sku: "CABLE-1", quantity: 3 },
  ],
};

function harness() {
  const orders = {
    placeOrder: vi.fn<OrderUseCases["placeOrder"]>(async () => ORDER),
    getOrder: vi.fn<OrderUseCases["getOrder"]>(async () => ORDER),
    cancelOrder: vi.fn<OrderUseCases["cancelOrder"]>(async () => ({ ...ORDER, status: "cancelled" })),
  };
  const reported: unknown[] = [];
  const app = createOrdersApp(orders, { report: (error) => reported.push(error) });
  return {
    app,
    orders,
    reported,
    calls: () =>
      orders.placeOrder.mock.calls.length + orders.getOrder.mock.calls.length + orders.cancelOrder.mock.calls.length,
  };
}

interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Asserts the RFC 9457 shape every error response of this API has. */
function expectProblem(res: ProblemResponse, status: number, type: string, title?: string): void {
  expect(res.status, `HTTP status; body was ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.headers["content-type"], "every error is application/problem+json (RFC 9457 §3)").toMatch(
    /^application\/problem\+json\b/,
  );
  expect(res.body.status, "the status member must equal the HTTP status, or clients and proxies disagree").toBe(status);
  expect(res.body.type, "type names the kind of problem; clients branch on it").toBe(type);
  expect(
    typeof res.body.title === "string" && res.body.title.length > 0,
    "a problem has a short human-readable title",
  ).toBe(true);
  expect(
    typeof res.body.detail === "string" && res.body.detail.length > 0,
    "a problem has a detail for this occurrence",
  ).toBe(true);
  if (title !== undefined)
    expect(res.body.title, "with type about:blank the title is the HTTP status phrase (RFC 9457 §4.2.1)").toBe(title);
}

/**
 * The methods an Allow header lists, as a sorted set: RFC 9110 §10.2.1 fixes no order, and
 * OPTIONS, which the app answers too, may be listed or not.
 */
function allowedMethods(header: string | undefined): string[] {
  expect(
    header,
    "a 405 (and an OPTIONS answer) must carry an Allow header listing the methods that work (RFC 9110 §15.5.6)",
  ).toBeTypeOf("string");
  const methods = header!.split(",").map((method) => method.trim().toUpperCase());
  return [...new Set(methods.filter((method) => method !== "OPTIONS"))].sort();
}

/** The distinct pointers of a problem's errors, sorted: one part may break several rules. */
function pointers(res: { body: Record<string, unknown> }): string[] {
  const issues = (res.body.errors ?? []) as { pointer: unknown; detail: unknown }[];
  for (const issue of issues) {
    expect(
      typeof issue.detail === "string" && issue.detail.length > 0,
      "each issue says what is wrong in its detail",
    ).toBe(true);
  }
  return [...new Set(issues.map((issue) => issue.pointer as string))].sort();
}

describe("POST /orders places an order", () => {
  it("answers 201 with the order as JSON and a Location header naming it", async () => {
    const { app } = harness();
    const res = await request(app).post("/orders").send(VALID_BODY);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers["content-type"]).toMatch(/^application\/json\b/);
    expect(res.headers.location, "201 Created says where the new resource lives").toBe(`/orders/${ORDER_ID}`);
    expect(res.body).toStrictEqual(ORDER_DTO);
  });

  it("hands the service exactly the validated command", async () => {
    const { app, orders } = harness();
    await request(app).post("/orders").send(VALID_BODY);
    expect(orders.placeOrder).toHaveBeenCalledTimes(1);
    expect(orders.placeOrder.mock.calls[0]![0]).toStrictEqual(VALID_BODY);
  });

  it("sends a DTO, not the domain object: ISO-8601 instants, a total per line, and no internal version", async () => {
    const { app } = harness();
    const res = await request(app).post("/orders").send(VALID_BODY);
    expect(res.body, "the version is a storage detail; leaking it makes it part of the API forever").not.toHaveProperty(
      "version",
    );
    expect(res.body.createdAt).toBe("2026-02-03T09:30:00.123Z");
    expect(res.body.lines.map((line: { lineTotalCents: number }) => line.lineTotalCents)).toEqual([9_998, 750]);
  });

  it("accepts the limits themselves: 50 lines, quantity 999, ids of 64 characters", async () => {
    const { app, orders } = harness();
    const body = {
      customerId: "c".repeat(ORDER_LIMITS.maxIdLength),
      lines: Array.from({ length: ORDER_LIMITS.maxLines }, (_, i) => ({
        sku: String(i).padStart(ORDER_LIMITS.maxIdLength, "S"),
        quantity: i === 0 ? 1 : ORDER_LIMITS.maxQuantity,
      })),
    };
    const res = await request(app).post("/orders").send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(orders.placeOrder).toHaveBeenCalledTimes(1);
  });

  it("rejects unknown keys with a 422 pointing at each one, without calling the service", async () => {
    const { app, calls } = harness();
    const res = await request(app)
      .post("/orders")
      .send({ ...VALID_BODY, role: "admin", lines: [{ sku: "KB-101", quantity: 1, unitPriceCents: 1 }] });
    expectProblem(res, 422, `${PROBLEMS}validation-failed`);
    expect(res.body.code).toBe("VALIDATION_FAILED");
    expect(pointers(res), "a strict schema stops mass assignment: a client must not set prices or roles").toEqual([
      "/lines/0/unitPriceCents",
      "/role",
    ]);
    expect(calls(), "an invalid request never reaches the service").toBe(0);
  });

  it.each([
    ["customerId is missing", { lines: VALID_BODY.lines }, ["/customerId"]],
    ["customerId is blank", { ...VALID_BODY, customerId: "   " }, ["/customerId"]],
    [
      "customerId is one character too long",
      { ...VALID_BODY, customerId: "c".repeat(ORDER_LIMITS.maxIdLength + 1) },
      ["/customerId"],
    ],
    ["customerId is a number", { ...VALID_BODY, customerId: 42 }, ["/customerId"]],
    ["lines is empty", { ...VALID_BODY, lines: [] }, ["/lines"]],
    ["lines is not an array", { ...VALID_BODY, lines: "KB-101" }, ["/lines"]],
    [
      "there is one line too many",
      {
        ...VALID_BODY,
        lines: Array.from({ length: ORDER_LIMITS.maxLines + 1 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })),
      },
      ["/lines"],
    ],
    ["a quantity is zero", { ...VALID_BODY, lines: [{ sku: "KB-101", quantity: 0 }] }, ["/lines/0/quantity"]],
    [
      "a quantity is one above the limit",
      { ...VALID_BODY, lines: [{ sku: "KB-101", quantity: ORDER_LIMITS.maxQuantity + 1 }] },
      ["/lines/0/quantity"],
    ],
    ["a quantity is fractional", { ...VALID_BODY, lines: [{ sku: "KB-101", quantity: 2.5 }] }, ["/lines/0/quantity"]],
    ["a quantity is a string", { ...VALID_BODY, lines: [{ sku: "KB-101", quantity: "2" }] }, ["/lines/0/quantity"]],
    [
      "a sku is empty",
      {
        ...VALID_BODY,
        lines: [
          { sku: "KB-101", quantity: 1 },
          { sku: "", quantity: 1 },
        ],
      },
      ["/lines/1/sku"],
    ],
    [
      "a sku is one character too long",
      { ...VALID_BODY, lines: [{ sku: "S".repeat(ORDER_LIMITS.maxIdLength + 1), quantity: 1 }] },
      ["/lines/0/sku"],
    ],
    ["the body is an array", [VALID_BODY], [""]],
  ])("answers 422 when %s, pointing at the culprit", async (_label, body, expected) => {
    const { app, calls } = harness();
    const res = await request(app)
      .post("/orders")
      .send(body as object);
    expectProblem(res, 422, `${PROBLEMS}validation-failed`);
    expect(pointers(res), "errors[].pointer is an RFC 6901 JSON Pointer into the body").toEqual(expected);
    expect(calls()).toBe(0);
  });

  it("escapes ~ and / inside a key as RFC 6901 says (~0 and ~1)", async () => {
    const { app } = harness();
    const res = await request(app)
      .post("/orders")
      .send({ ...VALID_BODY, "a/b~c": true });
    expect(pointers(res), "without escaping, /a/b~c would point at key b~c inside key a").toEqual(["/a~1b~0c"]);
  });

  it("answers 422, not 415, when the request has no body at all (Content-Length: 0)", async () => {
    const { app, calls } = harness();
    const res = await request(app).post("/orders").set("Content-Length", "0");
    expectProblem(res, 422, `${PROBLEMS}validation-failed`);
    expect(pointers(res), "the whole (missing) body is the culprit").toEqual([""]);
    expect(calls()).toBe(0);
  });

  it("passes the service's own ValidationError on as a 422 with its issues as errors", async () => {
    const { app, orders } = harness();
    const issues = [{ pointer: "/lines/1/sku", detail: "is not a product the catalogue sells" }];
    orders.placeOrder.mockRejectedValueOnce(new ValidationError(issues));
    const res = await request(app).post("/orders").send(VALID_BODY);
    expectProblem(res, 422, `${PROBLEMS}validation-failed`);
    expect(res.body.errors, "business-rule issues reach the client in the same format as schema issues").toEqual(
      issues,
    );
  });

  it("answers 400 to a body that is not valid JSON, without echoing it", async () => {
    const { app, calls } = harness();
    const res = await request(app)
      .post("/orders")
      .set("Content-Type", "application/json")
      .send('{"customerId": "SECRET-TOKEN-1" ');
    expectProblem(res, 400, "about:blank", "Bad Request");
    expect(res.text, "parser messages quote the body; a detail of your own does not").not.toContain("SECRET-TOKEN-1");
    expect(calls()).toBe(0);
  });

  it("answers 415 to a body that is not application/json", async () => {
    const { app, calls } = harness();
    const res = await request(app).post("/orders").set("Content-Type", "text/plain").send(JSON.stringify(VALID_BODY));
    expectProblem(res, 415, "about:blank", "Unsupported Media Type");
    expect(calls()).toBe(0);
  });

  it("answers 415 to JSON in a charset or content encoding it cannot read", async () => {
    const { app, calls } = harness();
    const latin1 = await request(app)
      .post("/orders")
      .set("Content-Type", "application/json; charset=latin1")
      .send(JSON.stringify(VALID_BODY));
    expectProblem(latin1, 415, "about:blank", "Unsupported Media Type");
    const compressed = await request(app)
      .post("/orders")
      .set("Content-Type", "application/json")
      .set("Content-Encoding", "compress")
      .send(JSON.stringify(VALID_BODY));
    expectProblem(compressed, 415, "about:blank", "Unsupported Media Type");
    expect(calls()).toBe(0);
  });

  it("answers 413 to a body over 16 KiB, and accepts one just under it", async () => {
    const { app, orders } = harness();
    const padded = (bytes: number) => {
      const body = JSON.stringify({ ...VALID_BODY, customerId: "" });
      return body.replace('"customerId":""', `"customerId":"${"c".repeat(bytes - body.length)}"`);
    };
    const tooLarge = await request(app)
      .post("/orders")
      .set("Content-Type", "application/json")
      .send(padded(16 * 1024 + 1));
    expectProblem(tooLarge, 413, "about:blank", "Content Too Large");
    const justUnder = await request(app)
      .post("/orders")
      .set("Content-Type", "application/json")
      .send(padded(16 * 1024));
    expect(justUnder.status, "16 KiB itself is within the limit (it fails validation, not the size check)").toBe(422);
    expect(orders.placeOrder).not.toHaveBeenCalled();
  });
});

describe("GET /orders/:id reads an order", () => {
  it("answers 200 with the order's DTO, asking the service for that id", async () => {
    const { app, orders } = harness();
    const res = await request(app).get(`/orders/${ORDER_ID}`);
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual(ORDER_DTO);
    expect(orders.getOrder.mock.calls).toEqual([[ORDER_ID]]);
  });

  it("answers 404 order-not-found when the service has no such order", async () => {
    const { app, orders } = harness();
    orders.getOrder.mockRejectedValueOnce(new NotFoundError(ORDER_ID));
    const res = await request(app).get(`/orders/${ORDER_ID}`);
    expectProblem(res, 404, `${PROBLEMS}order-not-found`);
    expect(res.body.code).toBe("ORDER_NOT_FOUND");
  });

  it.each(["not-a-uuid", "6f1c2b1e-9d4a-4c3b-8e2f-1a2b3c4d5e6", "%27%20OR%201%3D1%20--"])(
    "answers 404 to the id %s, which cannot name an order, without calling the service",
    async (id) => {
      const { app, calls } = harness();
      const res = await request(app).get(`/orders/${id}`);
      expectProblem(res, 404, `${PROBLEMS}order-not-found`);
      expect(calls(), "garbage ids are stopped at the edge, before they cost a query (or break a uuid column)").toBe(0);
    },
  );
});

describe("POST /orders/:id/cancel cancels an order", () => {
  it("answers 200 with the cancelled order, with or without an empty JSON body", async () => {
    const { app, orders } = harness();
    const bare = await request(app).post(`/orders/${ORDER_ID}/cancel`);
    expect(bare.status, JSON.stringify(bare.body)).toBe(200);
    expect(bare.body).toStrictEqual({ ...ORDER_DTO, status: "cancelled" });
    const empty = await request(app).post(`/orders/${ORDER_ID}/cancel`).send({});
    expect(empty.status, JSON.stringify(empty.body)).toBe(200);
    expect(orders.cancelOrder.mock.calls).toEqual([[ORDER_ID], [ORDER_ID]]);
  });

  it("answers 422 to a cancel that carries fields, since it accepts none", async () => {
    const { app, calls } = harness();
    const res = await request(app).post(`/orders/${ORDER_ID}/cancel`).send({ reason: "changed my mind" });
    expectProblem(res, 422, `${PROBLEMS}validation-failed`);
    expect(pointers(res)).toEqual(["/reason"]);
    expect(calls()).toBe(0);
  });

  it("answers 409 invalid-transition when the order's status does not allow it", async () => {
    const { app, orders } = harness();
    orders.cancelOrder.mockRejectedValueOnce(new InvalidTransitionError(ORDER_ID, "shipped", "cancelled"));
    const res = await request(app).post(`/orders/${ORDER_ID}/cancel`);
    expectProblem(res, 409, `${PROBLEMS}invalid-transition`);
    expect(res.body.code).toBe("INVALID_TRANSITION");
  });

  it("answers 409 concurrency-conflict when someone changed the order meanwhile", async () => {
    const { app, orders } = harness();
    orders.cancelOrder.mockRejectedValueOnce(new ConcurrencyError(ORDER_ID, 7));
    const res = await request(app).post(`/orders/${ORDER_ID}/cancel`);
    expectProblem(res, 409, `${PROBLEMS}concurrency-conflict`);
    expect(res.body.code, "the code tells a client that retrying after a reload may succeed").toBe(
      "CONCURRENCY_CONFLICT",
    );
  });

  it("answers 404 order-not-found for an unknown order, and for an id that cannot be one", async () => {
    const { app, orders } = harness();
    orders.cancelOrder.mockRejectedValueOnce(new NotFoundError(ORDER_ID));
    expectProblem(await request(app).post(`/orders/${ORDER_ID}/cancel`), 404, `${PROBLEMS}order-not-found`);
    expectProblem(await request(app).post("/orders/nope/cancel"), 404, `${PROBLEMS}order-not-found`);
    expect(orders.cancelOrder).toHaveBeenCalledTimes(1);
  });
});

describe("every error is an RFC 9457 problem", () => {
  it("answers an unknown URL with a 404 problem rather than express's HTML page", async () => {
    const { app } = harness();
    const res = await request(app).get("/nothing/here");
    expectProblem(res, 404, "about:blank", "Not Found");
  });

  it.each([
    ["DELETE", `/orders/${ORDER_ID}`, ["GET", "HEAD"]],
    ["PUT", "/orders", ["POST"]],
    ["GET", `/orders/${ORDER_ID}/cancel`, ["POST"]],
  ] as const)("answers %s %s with 405 and an Allow header listing %j, in any order", async (method, url, allow) => {
    const { app, calls } = harness();
    const res = await request(app)[method.toLowerCase() as "delete" | "put" | "get"](url);
    expectProblem(res, 405, "about:blank", "Method Not Allowed");
    expect(
      allowedMethods(res.headers.allow),
      "Allow lists exactly the methods the resource serves; express answers HEAD wherever it answers GET",
    ).toEqual([...allow].sort());
    expect(calls()).toBe(0);
  });

  it("answers OPTIONS with 204 and the allowed methods", async () => {
    const { app } = harness();
    const res = await request(app).options("/orders");
    expect(res.status).toBe(204);
    expect(allowedMethods(res.headers.allow), "OPTIONS tells a client what it may send, without sending it").toEqual([
      "POST",
    ]);
    const item = await request(app).options(`/orders/${ORDER_ID}`);
    expect(item.status).toBe(204);
    expect(allowedMethods(item.headers.allow)).toEqual(["GET", "HEAD"]);
  });

  it("hides an unexpected error behind a generic 500, and hands the original to report", async () => {
    const { app, orders, reported } = harness();
    const failure = Object.assign(new Error('duplicate key value violates unique constraint "orders_pkey"'), {
      code: "23505",
      detail: "Key (id)=(6f1c2b1e) already exists.",
      query: "INSERT INTO orders (id, customer_id) VALUES ($1, $2)",
    });
    orders.placeOrder.mockRejectedValueOnce(failure);
    const res = await request(app).post("/orders").send(VALID_BODY);
    expectProblem(res, 500, "about:blank", "Internal Server Error");
    for (const secret of ["orders_pkey", "23505", "INSERT", "already exists", "node_modules"]) {
      expect(
        res.text,
        `a 500 must not leak ${JSON.stringify(secret)}: messages and SQL help attackers, not clients`,
      ).not.toContain(secret);
    }
    expect(res.text, "a 500 must not leak a stack trace").not.toMatch(/\bat [^"]*:\d+:\d+/);
    expect(reported, "operators still need the real error: it goes to report, not to the client").toEqual([failure]);
  });

  it("does not mirror the status of a downstream failure: an error that merely has a status is a 500", async () => {
    const { app, orders, reported } = harness();
    // What an HTTP client throws when the catalogue service answers 404: not *your* 404.
    const downstream = Object.assign(new Error("GET http://catalog.internal/skus/KB-101 failed: 404"), { status: 404 });
    orders.getOrder.mockRejectedValueOnce(downstream);
    const res = await request(app).get(`/orders/${ORDER_ID}`);
    expectProblem(res, 500, "about:blank", "Internal Server Error");
    expect(res.text, "internal hostnames are nobody's business").not.toContain("catalog.internal");
    expect(reported).toEqual([downstream]);
  });

  it("turns a thrown non-Error into the same generic 500", async () => {
    const { app, orders, reported } = harness();
    orders.getOrder.mockRejectedValueOnce("SELECT * FROM orders failed");
    const res = await request(app).get(`/orders/${ORDER_ID}`);
    expectProblem(res, 500, "about:blank", "Internal Server Error");
    expect(res.text).not.toContain("SELECT");
    expect(reported).toEqual(["SELECT * FROM orders failed"]);
  });

  it("still answers with the problem when report itself throws", async () => {
    const orders = {
      placeOrder: vi.fn(),
      getOrder: vi.fn(async () => Promise.reject(new Error("boom"))),
      cancelOrder: vi.fn(),
    };
    const app = createOrdersApp(orders, {
      report: () => {
        throw new Error("the log shipper is down");
      },
    });
    const res = await request(app).get(`/orders/${ORDER_ID}`);
    expectProblem(res, 500, "about:blank", "Internal Server Error");
  });

  it("reports to console.error when no report function is given", async () => {
    const failure = new Error("connection terminated unexpectedly");
    const orders = { placeOrder: vi.fn(), getOrder: vi.fn(async () => Promise.reject(failure)), cancelOrder: vi.fn() };
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const res = await request(createOrdersApp(orders)).get(`/orders/${ORDER_ID}`);
      expectProblem(res, 500, "about:blank", "Internal Server Error");
      expect(logged, "an unexpected error that nobody sees is an outage nobody fixes").toHaveBeenCalledWith(failure);
    } finally {
      logged.mockRestore();
    }
  });

  it("does not report expected errors as failures", async () => {
    const { app, orders, reported } = harness();
    orders.getOrder.mockRejectedValueOnce(new NotFoundError(ORDER_ID));
    await request(app).get(`/orders/${ORDER_ID}`);
    await request(app).post("/orders").send({});
    expect(reported, "a 4xx is the client's mistake; paging someone for it trains them to ignore the pager").toEqual(
      [],
    );
  });

  it("does not advertise its framework with X-Powered-By", async () => {
    const { app } = harness();
    const res = await request(app).get(`/orders/${ORDER_ID}`);
    expect(res.status).toBe(200);
    expect(res.headers["x-powered-by"], "naming the framework tells attackers which CVEs to try").toBeUndefined();
  });
});
