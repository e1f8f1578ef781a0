import { expect, it } from "vitest";
import { answer } from "../src/late-exit";

it("answers", () => {
  expect(answer()).toBe(42);
});
