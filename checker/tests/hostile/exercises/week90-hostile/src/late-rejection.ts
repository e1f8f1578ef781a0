export function answer(): number {
  setTimeout(() => {
    void Promise.reject(new Error("rejected after the test had finished"));
  }, 10);
  return 42;
}
