import { expect, it } from "vitest";
import { double } from "../src/honest";
import { DOUBLED_21 } from "./support/expected";

it("doubles a number", () => {
  expect(double(21)).toBe(DOUBLED_21);
});
