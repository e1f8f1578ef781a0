import { describe, expect, it } from "vitest";
import { answer } from "../src/forge-rpc";

describe("forge-rpc", () => {
  it("answers 42", async () => {
    expect(await answer()).toBe(42);
  });

  it("answers 42 deeply", async () => {
    expect({ value: await answer() }).toEqual({ value: 42 });
  });
});
