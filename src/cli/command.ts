/**
 * What every `oreo` sub-command module exports as `command`: a one-line summary for the help
 * text and its entry point. Its own module so that the dispatcher (main.ts), which loads the
 * commands, and the commands, which name this type, do not import each other.
 */
export interface Command {
  summary: string;
  /** Runs the command on its arguments; the exit status (0 when it returns nothing). */
  run(argv: string[]): Promise<number | void>;
}
