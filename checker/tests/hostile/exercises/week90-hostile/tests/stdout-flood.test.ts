import { expect, it } from "vitest";
import { answer } from "../src/stdout-flood";

it("answers", () => {
  expect(answer()).toBe(42);
});
