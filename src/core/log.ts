/**
 * The logger contract used across hostmaint. It is winston's shape (src/report/logging.ts
 * builds the real one); tests pass `memoryLogger()` to see what was logged.
 * Meta objects must never carry secrets: the HTTP layer redacts before logging.
 */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta?: Record<string, unknown> | undefined;
}

export interface MemoryLogger extends Logger {
  records: LogRecord[];
  /** Everything logged, as one string (for secret greps in tests). */
  text(): string;
}

export function memoryLogger(): MemoryLogger {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (message: string, meta?: Record<string, unknown>) => {
    records.push({ level, message, meta });
  };
  return {
    records,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    text: () => records.map((r) => `${r.level} ${r.message} ${r.meta ? JSON.stringify(r.meta) : ''}`).join('\n'),
  };
}

export const nullLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
