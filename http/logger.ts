/** Levels in increasing severity; `silent` turns logging off (tests). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Structured fields; never put keys, secrets or raw personal data in them. */
type LogFields = Record<string, unknown>;

/** A JSON-lines logger: one object per line with `time`, `level`, `msg` and the fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function serialiseError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { name: value.name, message: value.message, stack: value.stack };
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = SEVERITY[level];
  const log = (at: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (SEVERITY[at] < threshold) return;
    const entry: LogFields = { time: new Date().toISOString(), level: at, msg };
    for (const [key, value] of Object.entries(fields ?? {})) entry[key] = serialiseError(value);
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}
