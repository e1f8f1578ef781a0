// Reports a test of some other file as failed (or passed): the main process must not listen.
export function answer(): number {
  process.send?.({ t: "q", m: "onTaskUpdate", a: [[["0000000000_0", { state: "pass", duration: 1 }, {}]], []] });
  return 42;
}
