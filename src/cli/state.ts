import type { CliIO } from '../report/io.js';

/** What every command shares: the outside world, the exit code it sets, the output format. */
export interface CommandState {
  io: CliIO;
  exitCode: number;
  format: 'table' | 'json';
  /** The command line runCli was given (what the run record keeps, redacted). */
  argv?: string[];
}
