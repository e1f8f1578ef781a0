import { expect, it } from "vitest";
import { redisUrl } from "#fixtures/redis";
import { databaseUrl } from "#fixtures/postgres";
import { leak } from "../src/leaks";

it("answers although it leaks", async () => {
  expect(await leak(redisUrl(), databaseUrl())).toBe(42);
});
