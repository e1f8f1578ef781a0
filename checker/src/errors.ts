/**
 * Stable codes for the mistakes a user can make. Each is printed as one line with the next
 * command to try; anything that is not a CheckerError is a bug and prints its stack.
 */
export type CheckerErrorCode =
  | "E_USAGE"
  | "E_UNKNOWN_COMMAND"
  | "E_UNKNOWN_WEEK"
  | "E_UNKNOWN_KATA"
  | "E_MANIFEST"
  | "E_NO_COURSE"
  | "E_NO_TESTS"
  | "E_SPOILER"
  | "E_RESET"
  | "E_SANDBOX"
  | "E_NO_REFERENCE";

export class CheckerError extends Error {
  constructor(
    readonly code: CheckerErrorCode,
    message: string,
    /** The command that gets the user unstuck, printed after the message. */
    readonly next?: string,
  ) {
    super(message);
    this.name = "CheckerError";
  }
}

export function isCheckerError(error: unknown): error is CheckerError {
  return error instanceof CheckerError;
}
