// Live status line on a terminal; one JSON object per line otherwise (ADF, Batch, Container Apps, CI).

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  /** Transient progress (overwritten in place on a TTY; rate-limited JSON otherwise). */
  progress(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  json?: boolean;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** Nothing at all, not even errors (tests, library use). */
  silent?: boolean;
}

/** The stream a live status line is showing on, if any (one per process: the terminal). */
let statusOn: { write(s: string): unknown } | undefined;

/**
 * Clears the live status line, if one is showing: anything else written to the terminal (a result line on stdout,
 * a fatal error) calls this first, so the two never run together on one line.
 */
export function clearStatusLine(): void {
  if (statusOn) {
    statusOn.write('\r\x1b[2K');
    statusOn = undefined;
  }
}

export function createLogger(options: LoggerOptions = {}, base: Fields = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const json = options.json ?? !stream.isTTY;
  let lastProgressJson = 0;
  const clearStatus = () => {
    if (statusOn === stream) clearStatusLine();
  };

  const emit = (level: Level, msg: string, fields: Fields = {}) => {
    if (options.silent || (options.quiet && level !== 'error')) return;
    if (level === 'debug' && !process.env.C360_DEBUG) return;
    if (json) {
      stream.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, jsonSafe) + '\n');
      return;
    }
    clearStatus();
    const extra = Object.entries({ ...base, ...fields })
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v, jsonSafe) : String(v)}`)
      .join(' ');
    const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
    stream.write(`${tag}${msg}${extra ? `  ${extra}` : ''}\n`);
  };

  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    debug: (m, f) => emit('debug', m, f),
    progress: (m, f = {}) => {
      if (options.quiet || options.silent) return;
      if (json) {
        const now = Date.now();
        if (now - lastProgressJson < 2000) return;
        lastProgressJson = now;
        emit('info', m, { ...f, progress: true });
        return;
      }
      const extra = Object.entries({ ...f })
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      const line = `… ${m}${extra ? `  ${extra}` : ''}`;
      stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 120) - 1)}`);
      statusOn = stream;
    },
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** A logger that writes nothing (tests, library use). */
export const silentLogger: Logger = createLogger({ silent: true, json: true });
