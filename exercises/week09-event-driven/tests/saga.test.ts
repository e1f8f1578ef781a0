import { describe, expect, it } from "vitest";
import { usePostgres } from "#fixtures/postgres";
import { SagaInterruptedError } from "../src/order-saga";
import { CRASH, crashAfter, useSagaWorld } from "./support/saga-world";

const postgres = usePostgres();
const saga = useSagaWorld(postgres);
const { orchestrator, restarted, newSagaId, order } = saga;
const freshWorld = () => saga.fresh();

describe("runs the steps in order", () => {
  it("reserves stock, charges the payment and schedules shipping, then answers completed with what each service answered", async () => {
    const world = await freshWorld();
    const sagaId = newSagaId();
    const outcome = await orchestrator().start(sagaId, order());
    expect(outcome).toEqual({ sagaId, status: "completed", results: expect.objectContaining({}) });
    expect(world.effects(), "one reservation, one charge, one shipment, in that order").toEqual([
      "reserve",
      "charge",
      "ship",
    ]);
    const [reservationId] = [...world.reservations.keys()];
    const [chargeId] = [...world.charges.keys()];
    const [shipmentId] = [...world.shipments.keys()];
    expect(outcome.results).toEqual({ reservationId, chargeId, shipmentId });
    expect(world.stock.get("sku-red")).toBe(7);
    expect(
      await orchestrator().status(sagaId),
      "another orchestrator reads the state from Postgres, not from memory",
    ).toBe("completed");
  });

  it("sends an Idempotency-Key on every call, a quoted string unique per saga and action", async () => {
    const world = await freshWorld();
    await orchestrator().start(newSagaId(), order());
    await orchestrator().start(newSagaId(), order({ customerId: "cus-broke" }));
    const keys = world.calls.map((c) => c.key);
    expect(
      keys.every((k) => k !== undefined),
      "a service cannot deduplicate a call without a key (or with an unquoted one)",
    ).toBe(true);
    expect(
      new Set(keys).size,
      "two actions with one key: the service replays the first action's answer to the second",
    ).toBe(keys.length);
  });

  it("continues, instead of repeating, a saga started twice with the same id", async () => {
    const world = await freshWorld();
    const sagaId = newSagaId();
    const first = await orchestrator().start(sagaId, order());
    const again = await orchestrator().start(sagaId, order());
    expect(again).toEqual(first);
    expect(world.effects(), "starting an existing saga must not reserve or charge again").toEqual([
      "reserve",
      "charge",
      "ship",
    ]);
    expect(await orchestrator().status("saga-never-started")).toBeUndefined();
  });
});

describe("compensates a refused step in reverse order", () => {
  it("refunds the payment and then releases the stock when shipping is refused", async () => {
    const world = await freshWorld();
    const outcome = await orchestrator().start(newSagaId(), order({ address: "nowhere" }));
    expect(outcome.status).toBe("compensated");
    expect(outcome.failedStep).toBe("schedule-shipping");
    expect(world.effects(), "compensations run newest first: refund before release").toEqual([
      "reserve",
      "charge",
      "refund",
      "release",
    ]);
    expect(
      [...world.charges.values()].every((c) => c.refunded),
      "the customer got the money back",
    ).toBe(true);
    expect(world.stock.get("sku-red"), "the stock is back").toBe(10);
  });

  it("releases the stock, and refunds nothing, when the payment is declined", async () => {
    const world = await freshWorld();
    const outcome = await orchestrator().start(newSagaId(), order({ customerId: "cus-broke" }));
    expect(outcome).toMatchObject({ status: "compensated", failedStep: "charge-payment" });
    expect(
      world.calls.map((c) => c.route),
      "only steps that succeeded are undone, and nothing runs after a refusal",
    ).toEqual(["reserve", "charge", "release"]);
    expect(world.stock.get("sku-red")).toBe(10);
  });

  it("has nothing to undo when the first step is refused", async () => {
    const world = await freshWorld();
    const sagaId = newSagaId();
    const outcome = await orchestrator().start(sagaId, order({ items: [{ sku: "sku-blue", quantity: 5 }] }));
    expect(outcome).toMatchObject({ sagaId, status: "compensated", failedStep: "reserve-stock" });
    expect(world.calls.map((c) => c.route)).toEqual(["reserve"]);
    expect(
      await orchestrator().status(sagaId),
      "another orchestrator reads the state from Postgres, not from memory",
    ).toBe("compensated");
  });
});

describe("retries an unknown outcome with the same key", () => {
  it("charges once when the first charge went through but its answer was lost", async () => {
    const world = await freshWorld();
    world.failNext("charge", 1, { status: 503, afterEffect: true });
    const outcome = await orchestrator().start(newSagaId(), order());
    expect(outcome.status, "a 503 says nothing about whether the charge happened: retry it, do not compensate").toBe(
      "completed",
    );
    const charges = world.calls.filter((c) => c.route === "charge");
    expect(charges.length, "a 503 says nothing about the work: ask again").toBe(2);
    expect(charges[1]!.key, "the retry must carry the same key, or the service cannot know it is a retry").toBe(
      charges[0]!.key,
    );
    expect(world.charges.size, "charged once").toBe(1);
  });

  it("stops with SagaInterruptedError after maxAttempts, and resume() finishes the saga once the service is back", async () => {
    const world = await freshWorld();
    world.failNext("ship", 3, { status: 503 });
    const sagaId = newSagaId();
    const run = orchestrator({ maxAttempts: 3 }).start(sagaId, order());
    await expect(
      run,
      "after maxAttempts unknown outcomes the run stops, leaving the saga to resume(); it does not compensate",
    ).rejects.toBeInstanceOf(SagaInterruptedError);
    await expect(run).rejects.toMatchObject({ code: "ERR_SAGA_INTERRUPTED", sagaId, action: "schedule-shipping" });
    expect(await orchestrator().status(sagaId), "an unknown outcome is not a refusal: no compensation").toBe("running");
    expect(world.effects()).toEqual(["reserve", "charge"]);

    const [outcome] = await (await restarted()).resume();
    expect(outcome).toMatchObject({ sagaId, status: "completed" });
    expect(world.effects(), "resuming continues at the step that was interrupted").toEqual([
      "reserve",
      "charge",
      "ship",
    ]);
  });
});

describe("resumes from Postgres after a crash", () => {
  it("finishes a saga whose orchestrator died after a charge answered, charging once", async () => {
    const world = await freshWorld();
    const sagaId = newSagaId();
    const crashing = orchestrator({ hooks: crashAfter("charge-payment") });
    await expect(crashing.start(sagaId, order()), CRASH).rejects.toThrow("simulated crash");
    expect(await (await restarted()).status(sagaId), "a crash is not a refused step: nothing was compensated").toBe(
      "running",
    );

    const outcomes = await (await restarted()).resume();
    expect(outcomes).toEqual([expect.objectContaining({ sagaId, status: "completed" })]);
    expect(world.effects(), "the repeated charge was answered from the service's memory").toEqual([
      "reserve",
      "charge",
      "ship",
    ]);
    expect(world.charges.size).toBe(1);
    expect(world.reservations.size, "the reservation saved before the crash is not repeated").toBe(1);
  });

  it("keeps compensating a saga whose orchestrator died in the middle of its compensations", async () => {
    const world = await freshWorld();
    const sagaId = newSagaId();
    const crashing = orchestrator({ hooks: crashAfter("refund-payment") });
    await expect(crashing.start(sagaId, order({ address: "nowhere" })), CRASH).rejects.toThrow("simulated crash");
    expect(await (await restarted()).status(sagaId), "the state survives the process: it is in Postgres").toBe(
      "compensating",
    );

    const [outcome] = await (await restarted()).resume();
    expect(outcome).toMatchObject({ sagaId, status: "compensated", failedStep: "schedule-shipping" });
    expect(world.effects(), "a saga that was going backwards keeps going backwards").toEqual([
      "reserve",
      "charge",
      "refund",
      "release",
    ]);
    expect(world.calls.filter((c) => c.route === "ship").length, "shipping is never tried again").toBe(1);
    expect(world.stock.get("sku-red")).toBe(10);
  });

  it("compensates a saga whose orchestrator died right after a step was refused", async () => {
    const world = await freshWorld();
    const sagaId = newSagaId();
    const crashing = orchestrator({ hooks: crashAfter("charge-payment") });
    await expect(crashing.start(sagaId, order({ customerId: "cus-broke" })), CRASH).rejects.toThrow("simulated crash");
    const [outcome] = await (await restarted()).resume();
    expect(outcome).toMatchObject({ sagaId, status: "compensated", failedStep: "charge-payment" });
    expect(world.effects()).toEqual(["reserve", "release"]);
  });

  it("leaves finished sagas alone", async () => {
    const world = await freshWorld();
    await (await restarted()).resume();
    await orchestrator().start(newSagaId(), order());
    await orchestrator().start(newSagaId(), order({ address: "nowhere" }));
    const before = world.calls.length;
    expect(await (await restarted()).resume()).toEqual([]);
    expect(world.calls.length, "resume() must only touch running and compensating sagas").toBe(before);
  });
});
