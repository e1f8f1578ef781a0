import { numberSetting } from "./settings.ts";

// The output cap that counts is the pool's, on the fork's descriptors, which learner code
// cannot get around. This one only keeps a chatty but correct kata fast: well past the
// pool's budget, process.stdout.write returns at once instead of pushing every byte through
// the pipe. It lets twice the budget through, so the pool always sees the overflow and says so.
const LIMIT_BYTES = 2 * numberSetting("KATA_OUTPUT_BUDGET");

function cap(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  let used = 0;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    used += typeof chunk === "string" ? Buffer.byteLength(chunk) : ((chunk as Uint8Array | undefined)?.byteLength ?? 0);
    if (used <= LIMIT_BYTES) return write(chunk, ...rest);
    const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

cap(process.stdout);
cap(process.stderr);
