import { expect } from "vitest";

// The first setup file of every test fork: it runs before any learner module loads. Learner
// code shares the fork with the test runtime, so it could rewrite what decides a verdict;
// the pieces it would reach for are fixed in place here. No in-process guard is complete
// (the README says which guarantees grading gives); the checker also adds a test that must
// fail to every file and treats a file where it passes as tampered with.

function pin(target: object, key: PropertyKey): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (!descriptor || descriptor.configurable === false) return;
  Object.defineProperty(target, key, {
    ...descriptor,
    ...("value" in descriptor ? { writable: false } : {}),
    configurable: false,
  });
}

// chai's Assertion: every matcher ends in this.assert(...); neutering it would pass every expect.
const assertion = Object.getPrototypeOf(expect(0)) as object;
for (const key of ["assert", "_obj"]) pin(assertion, key);
pin(globalThis as object, Symbol.for("chai"));
// The worker's state carries the RPC to the main process and the current task.
const state = (globalThis as { __vitest_worker__?: object }).__vitest_worker__;
pin(globalThis as object, "__vitest_worker__");
if (state) for (const key of ["rpc", "ctx", "config", "onCancel"]) pin(state, key);
pin(process, "send");
