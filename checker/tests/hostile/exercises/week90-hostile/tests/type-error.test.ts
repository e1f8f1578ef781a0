import { expect, it } from "vitest";
import { answer } from "../src/type-error";

it("answers", () => {
  expect(answer()).toBe(42);
});
