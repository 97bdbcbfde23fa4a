// Errors that classify (a retrying orchestrator acts on `transient`) and instruct (say what to fix).

export class C360Error extends Error {
  /** Transient errors are retried by the local runner and by ADF's activity retry policy; terminal ones are not. */
  readonly transient: boolean;
  constructor(message: string, options: { transient?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'C360Error';
    this.transient = options.transient ?? false;
  }
}

/** Bad invocation or bad configuration: retrying cannot help. Exit code 2. */
export class UsageError extends C360Error {
  constructor(message: string) {
    super(message, { transient: false });
    this.name = 'UsageError';
  }
}

export class TransientError extends C360Error {
  constructor(message: string, cause?: unknown) {
    super(message, { transient: true, cause });
    this.name = 'TransientError';
  }
}

export function isTransient(error: unknown): boolean {
  if (error instanceof C360Error) return error.transient || diskFull(error.message);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || diskFull((error as Error | undefined)?.message)) return true;
  return code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN' || code === 'ECONNREFUSED' || code === 'EBUSY';
}

/** A full disk (Node's ENOSPC, DuckDB's "No space left on device"): a retry once space is freed can succeed. */
function diskFull(message: string | undefined): boolean {
  return !!message && /ENOSPC|No space left on device/i.test(message);
}

/** The message with what to do about it when the cause is the machine's, not the input (a full disk). */
export function withHint(message: string): string {
  if (diskFull(message) && !message.includes('disk is full')) {
    return `${message} (the disk is full: free space where the home's tmp/ and lake/ live, or point --home/C360_HOME or --lake elsewhere; nothing partial was committed, so the same command can simply be run again)`;
  }
  if (/\b(EACCES|EPERM|EROFS)\b|permission denied|read-only file system/i.test(message) && !message.includes('cannot write there')) {
    return `${message} (the user running c360 cannot write there: give it write access to that folder, or point --home/C360_HOME or --lake at one it can write; nothing partial was committed)`;
  }
  return message;
}

/** Errors of the machine rather than of c360 (a full disk, a folder it may not write): no stack trace is needed. */
export function isEnvironmentError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EMFILE' || code === 'ENFILE';
}
