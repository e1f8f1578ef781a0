import { describe, expect, it } from "vitest";
import { closedPort } from "#fixtures/net";
import { usePostgres } from "#fixtures/postgres";
import { SagaInterruptedError } from "../src/order-saga";
import { crashAfter, useSagaWorld } from "./support/saga-world";

const postgres = usePostgres();
const saga = useSagaWorld(postgres);
const { orchestrator, restarted, newSagaId, order } = saga;

describe("tells an unknown outcome from a refusal", () => {
  it.each([
    ["500, after the work was done", 500, true],
    ["429 Too Many Requests", 429, false],
    ["409, the service's own 'that key is in flight'", 409, false],
  ])("retries a charge answered %s, and charges once", async (_name, status, afterEffect) => {
    const world = await saga.fresh();
    world.failNext("charge", 1, { status, afterEffect });
    const outcome = await orchestrator().start(newSagaId(), order());
    expect(outcome.status, `a ${status} says nothing about the charge: retry it with the same key`).toBe("completed");
    expect(world.charges.size).toBe(1);
  });

  it("compensates a step answered with any other 4xx, such as 400", async () => {
    const world = await saga.fresh();
    world.failNext("ship", 1, { status: 400 });
    const outcome = await orchestrator().start(newSagaId(), order());
    expect(outcome, "a 4xx (other than 408, 409, 425, 429) is a definite no").toMatchObject({
      status: "compensated",
      failedStep: "schedule-shipping",
    });
    const why = "the successful steps are undone newest first: refund, then release";
    expect(world.effects(), why).toEqual(["reserve", "charge", "refund", "release"]);
  });

  it("uses every one of maxAttempts before giving up", async () => {
    const world = await saga.fresh();
    world.failNext("ship", 2, { status: 503 });
    const outcome = await orchestrator({ maxAttempts: 3 }).start(newSagaId(), order());
    expect(outcome.status, "two failures and a success fit in three attempts").toBe("completed");
    expect(world.calls.filter((c) => c.route === "ship")).toHaveLength(3);
  });

  it("stops with SagaInterruptedError when a service cannot be reached, and resume() finishes once it can", async () => {
    const world = await saga.fresh();
    const sagaId = newSagaId();
    const down = { ...world.endpoints, payments: `http://127.0.0.1:${await closedPort()}` };
    const run = orchestrator({ endpoints: down, maxAttempts: 2 }).start(sagaId, order());
    const why = "a refused connection is an unknown outcome, not a refusal";
    await expect(run, why).rejects.toBeInstanceOf(SagaInterruptedError);
    await expect(run).rejects.toMatchObject({ name: "SagaInterruptedError", sagaId, action: "charge-payment" });
    await expect(run, "the message names the saga and the action").rejects.toThrow(/saga-\d+.*charge-payment/);
    const [outcome] = await (await restarted()).resume();
    expect(outcome).toMatchObject({ sagaId, status: "completed" });
    expect(world.effects()).toEqual(["reserve", "charge", "ship"]);
  });

  it("retries a compensation until it is done: it has no refusal", async () => {
    const world = await saga.fresh();
    world.failNext("refund", 1, { status: 422 });
    world.failNext("release", 1, { status: 400 });
    const outcome = await orchestrator().start(newSagaId(), order({ address: "nowhere" }));
    expect(outcome.status).toBe("compensated");
    const refunded = [...world.charges.values()].every((c) => c.refunded);
    expect(refunded, "a refund answered 4xx is retried, never skipped").toBe(true);
    const released = [...world.reservations.values()].every((r) => r.released);
    expect(released, "a release answered 4xx is retried too, never skipped").toBe(true);
    expect(world.effects(), "newest first, each compensation once").toEqual(["reserve", "charge", "refund", "release"]);
  });
});

describe("talks to the services as the contract says", () => {
  it("escapes a saga id with quotes and backslashes inside its Idempotency-Key", async () => {
    const world = await saga.fresh();
    const sagaId = `order "42" \\ east`;
    const outcome = await orchestrator().start(sagaId, order());
    const why = "an unescaped quote breaks the String: the service answers 400 and the saga compensates";
    expect(outcome.status, why).toBe("completed");
    expect(new Set(world.calls.map((c) => c.key)).size).toBe(3);
    // The same id without its quotes and backslash is another saga, with keys of its own.
    const lookalike = await orchestrator().start("order 42  east", order({ orderId: "ord-lookalike" }));
    expect(lookalike.status, "dropping the quotes and the backslash makes two sagas share keys").toBe("completed");
    expect(new Set(world.calls.map((c) => c.key)).size, "two sagas, three actions each: six keys").toBe(6);
  });

  it.each([
    ["empty", ""],
    ["with a line break inside", "saga\n1"],
    ["ending with a line break", "saga-1\n"],
    ["longer than 200 characters", "s".repeat(201)],
    ["with a character outside ASCII", "saga-é"],
  ])("refuses a saga id %s with a RangeError", async (_name, sagaId) => {
    const world = await saga.fresh();
    const starting = orchestrator().start(sagaId, order());
    await expect(starting, "the id goes into a header: printable ASCII only").rejects.toBeInstanceOf(RangeError);
    expect(world.calls, "nothing is called for a saga that cannot be keyed").toEqual([]);
  });

  it("accepts base URLs that end with a slash", async () => {
    const world = await saga.fresh();
    const { inventory, payments, shipping } = world.endpoints;
    const endpoints = { inventory: `${inventory}/`, payments: `${payments}/`, shipping: `${shipping}/` };
    expect((await orchestrator({ endpoints }).start(newSagaId(), order())).status).toBe("completed");
    expect(world.calls.map((c) => c.path)).toEqual(["/reservations", "/charges", "/shipments"]);
  });
});

describe("lets several orchestrators resume at once", () => {
  it("finishes a saga two restarted orchestrators resume together, with every effect once", async () => {
    const world = await saga.fresh();
    const sagaId = newSagaId();
    const crashing = orchestrator({ hooks: crashAfter("reserve-stock") });
    await expect(crashing.start(sagaId, order())).rejects.toThrow("simulated crash");
    const [first, second] = await Promise.all([(await restarted()).resume(), (await restarted()).resume()]);
    const outcomes = [...first!, ...second!];
    expect(outcomes.length, "at least one of them drove it").toBeGreaterThan(0);
    for (const outcome of outcomes) {
      const why = "whoever drove it saw it through; optimistic versions keep them from overwriting each other";
      expect(outcome, why).toMatchObject({ sagaId, status: "completed" });
    }
    const why = "duplicate calls are answered from the services' memory";
    expect(world.effects(), why).toEqual(["reserve", "charge", "ship"]);
    expect(await orchestrator().status(sagaId)).toBe("completed");
  });
});
