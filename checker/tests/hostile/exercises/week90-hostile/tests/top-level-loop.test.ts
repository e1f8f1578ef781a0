import { expect, it } from "vitest";
import { value } from "../src/top-level-loop";

it("loads", () => {
  expect(value).toBeGreaterThanOrEqual(0);
});
