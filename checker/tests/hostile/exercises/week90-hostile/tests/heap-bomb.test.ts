import { expect, it } from "vitest";
import { hoard } from "../src/heap-bomb";

it("hoards", () => {
  expect(hoard()).toBe(0);
});
