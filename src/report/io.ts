/** What a command may touch of the outside world; tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** stdin and stderr are terminals: prompts and the live view are allowed. */
  interactive: boolean;
  /** Ask a yes/no question on the terminal; undefined when not interactive. */
  confirm?: (question: string) => Promise<boolean>;
  /** Width of the terminal on stderr, read at each redraw (it can be resized). Default 80. */
  columns?: () => number;
  /** Height of the terminal on stderr; null when unknown. */
  rows?: () => number | null;
  /** The terminal on stderr shows colour (NO_COLOR and --no-color are applied on top). Default: interactive. */
  color?: boolean;
}
