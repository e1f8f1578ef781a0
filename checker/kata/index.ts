/**
 * The one error every unfinished kata throws. Tests never assert on it: a skeleton fails
 * its tests because the behaviour is missing, not because of this class.
 */
export class NotImplementedError extends Error {
  readonly code = "ERR_NOT_IMPLEMENTED";

  constructor(readonly kata: string) {
    super(`${kata}: not implemented yet. Open the file, read its header, and replace this throw.`);
    this.name = "NotImplementedError";
  }
}
