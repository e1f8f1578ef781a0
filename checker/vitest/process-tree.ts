import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";

// The machine's processes as Linux shows them in /proc. Elsewhere (macOS, a locked-down
// container) the table is empty and callers fall back to what they know.

interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
}

/** Every process we may look at, with its parent and owner. */
export function processTable(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const table: ProcessInfo[] = [];
  for (const name of names) {
    try {
      // The command name may contain spaces and parentheses; the ppid follows the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      table.push({ pid: Number(name), ppid, uid: statSync(`/proc/${name}`).uid });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/** Pids of every process below `root`, breadth first, given each process's children. */
function walkDown(root: number, childrenOf: (pid: number) => readonly number[]): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.shift()!)) {
      if (found.includes(child)) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Pids of every process below `root`, from the whole table (complete, for ending them all). */
export function descendants(root: number = process.pid, table: readonly ProcessInfo[] = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  return walkDown(root, (pid) => children.get(pid) ?? []);
}

function residentBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

// Whether the kernel lists each thread's children (CONFIG_PROC_CHILDREN): a walk down from
// one process then reads a few files instead of every process's.
const listsChildren = existsSync(`/proc/${process.pid}/task/${process.pid}/children`);

/** The processes started by `pid`'s threads (the list may miss one being started that moment). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const tid of threads) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" "))
        if (child.trim()) found.push(Number(child));
    } catch {
      // The thread ended while we looked.
    }
  }
  return found;
}

/**
 * Resident memory of a process and everything it started, in bytes (0 where /proc is
 * unavailable). The pool polls it for every fork several times a second, so it walks down
 * from the fork where it can; a child missed as it starts is counted at the next poll.
 */
export function processTreeRss(pid: number): number {
  const below = listsChildren ? walkDown(pid, childrenOf) : descendants(pid);
  return [pid, ...below].reduce((sum, p) => sum + residentBytes(p), 0);
}

/** Pids of the processes owned by a uid in [first, first + count). */
export function processesOfUids(
  first: number,
  count: number,
  table: readonly ProcessInfo[] = processTable(),
): number[] {
  return table.filter((p) => p.uid >= first && p.uid < first + count).map((p) => p.pid);
}

/** Sends `signal` to each pid, ignoring the ones already gone; returns how many it reached. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): number {
  let reached = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      reached++;
    } catch {
      // Already gone, or not ours to signal.
    }
  }
  return reached;
}
