import { expect, it } from "vitest";
import { double } from "../src/honest";

it("doubles a number", () => {
  expect(double(21)).toBe(42);
});
