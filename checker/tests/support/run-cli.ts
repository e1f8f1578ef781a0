import { spawn } from "node:child_process";
import path from "node:path";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs the checker's CLI in a course folder as a learner's `npm run` would, with a hard bound. */
export function runCli(
  root: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number } = {},
): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "checker", "bin", "course.mjs"), ...args], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", KATA_COURSE_ROOT: root, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      // As another user (a test running as root trying the unsandboxed path).
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `checker ${args.join(" ")} did not finish within ${options.timeoutMs} ms\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}
