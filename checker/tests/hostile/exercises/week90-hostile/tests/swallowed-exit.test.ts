import { expect, it } from "vitest";
import { answer } from "../src/swallowed-exit";

it("answers", () => {
  expect(answer()).toBe(42);
});
