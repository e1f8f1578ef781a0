import { expect, it } from "vitest";
import { answer } from "../src/late-rejection";

it("answers", () => {
  expect(answer()).toBe(42);
});
