import type { CliIO } from '../report/io.js';
import { EXIT } from '../core/exit-codes.js';

/** A closed pipe (`hostmaint plan -v 2>&1 | head`) ends the process at once and quietly: no stack trace, exit 141 (SIGPIPE's). */
export function quietOnClosedPipe(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const s of streams) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(EXIT.PIPE_CLOSED);
      throw e;
    });
  }
}

export function processIO(): CliIO {
  quietOnClosedPipe();
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interactive,
    columns: () => process.stderr.columns || Number(process.env.COLUMNS) || 80,
    rows: () => process.stderr.rows || Number(process.env.LINES) || null,
    color: Boolean(process.stderr.isTTY) && (typeof process.stderr.hasColors !== 'function' || process.stderr.hasColors()),
    confirm: interactive
      ? async (question: string) => {
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            const answer = await rl.question(`${question} [y/N] `);
            return /^y(es)?$/i.test(answer.trim());
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}
