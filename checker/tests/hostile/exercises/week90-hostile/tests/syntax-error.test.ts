import { expect, it } from "vitest";
import { answer } from "../src/syntax-error";

it("answers", () => {
  expect(answer()).toBe(42);
});
