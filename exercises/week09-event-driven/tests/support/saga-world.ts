/**
 * What every saga test needs: the fake services and an empty saga database per test (its own
 * Postgres schema, so resume() only ever sees that test's sagas, whatever tables the saga
 * store chose and whatever an earlier failing test left unfinished). Call useSagaWorld() at
 * the top level of a test file.
 */
import type pg from "pg";
import { afterAll, afterEach } from "vitest";
import type { PostgresFixture } from "#fixtures/postgres";
import { OrderSaga, type OrderSagaOptions } from "../../src/order-saga";
import type { OrderToFulfil, SagaAction } from "../../src/saga-types";
import { type FakeWorld, startFakeServices } from "./fake-services";

export interface SagaWorld {
  /** Starts the fake services and an empty saga database for one test. */
  fresh(): Promise<FakeWorld>;
  /** The current test's fake services. */
  readonly services: FakeWorld;
  /** An orchestrator on the test's database and services, without retry delays. */
  orchestrator(options?: Partial<OrderSagaOptions>, pool?: pg.Pool): OrderSaga;
  /** A second orchestrator on its own pool, migrating as it starts: nothing shared with the first but Postgres. */
  restarted(): Promise<OrderSaga>;
  newSagaId(): string;
  order(overrides?: Partial<OrderToFulfil>): OrderToFulfil;
}

/** Hooks that throw once, right after `action` answered: the orchestrator's process dies there. */
export function crashAfter(action: SagaAction) {
  let armed = true;
  return {
    afterServiceCall: (_sagaId: string, answered: SagaAction) => {
      if (armed && answered === action) {
        armed = false;
        throw new Error(`simulated crash after ${action}`);
      }
    },
  };
}

export const CRASH =
  "a throw from afterServiceCall is the process dying: the run must stop with it, not retry or compensate";

export function useSagaWorld(postgres: PostgresFixture): SagaWorld {
  const schemas: string[] = [];
  const opened: FakeWorld[] = [];
  let services: FakeWorld | undefined;
  let schema = "";
  let pool: pg.Pool | undefined;
  let sagas = 0;
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((w) => w.close()));
  });
  afterAll(async () => {
    for (const name of schemas) await postgres.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });
  const sessions = (max: number) => postgres.pool({ max, options: `-c search_path=${schema}` });
  const orchestrator = (options: Partial<OrderSagaOptions> = {}, onPool?: pg.Pool) =>
    new OrderSaga({ pool: onPool ?? pool!, endpoints: services!.endpoints, retryDelayMs: 0, hooks: {}, ...options });

  return {
    get services() {
      return services!;
    },
    fresh: async () => {
      schema = `${postgres.schema}_t${schemas.length + 1}`;
      schemas.push(schema);
      await postgres.query(`CREATE SCHEMA "${schema}"`);
      pool = sessions(4);
      services = await startFakeServices({ "sku-red": 10, "sku-blue": 2 });
      opened.push(services);
      await orchestrator().migrate();
      return services;
    },
    orchestrator,
    restarted: async () => {
      const saga = orchestrator({}, sessions(2));
      await saga.migrate();
      return saga;
    },
    newSagaId: () => `saga-${++sagas}`,
    order: (overrides = {}) => ({
      orderId: `ord-${sagas}`,
      customerId: "cus-1",
      items: [{ sku: "sku-red", quantity: 3 }],
      amountCents: 4_200,
      address: "1 Main Street",
      ...overrides,
    }),
  };
}
