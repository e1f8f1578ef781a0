import { computeLock, LOCK_FILE, writeLock } from "../integrity/course-lock";
import type { CommandContext } from "./context";

/** `npm run course -- lock`: a maintainer records the hashes of the protected files and skeletons. */
export async function lockCommand(ctx: CommandContext): Promise<number> {
  const lock = computeLock(ctx.course);
  writeLock(ctx.course.root, lock);
  ctx.out(
    `wrote ${LOCK_FILE}: ${Object.keys(lock.protected).length} protected files, ${Object.keys(lock.skeletons).length} skeletons`,
  );
  return 0;
}
