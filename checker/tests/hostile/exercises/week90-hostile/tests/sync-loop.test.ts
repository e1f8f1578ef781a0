import { expect, it } from "vitest";
import { answer } from "../src/sync-loop";

it("answers", () => {
  expect(answer()).toBe(42);
});
