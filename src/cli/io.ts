import type { CliIO } from '../report/io.js';

export function processIO(): CliIO {
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
