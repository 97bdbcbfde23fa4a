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

/** A message naming a permission the machine refused (Node's EACCES/EPERM/EROFS, DuckDB's "Permission denied"). */
export function deniedMessage(message: string): boolean {
  return /\b(EACCES|EPERM|EROFS)\b|permission denied|read-only file system/i.test(message);
}

/**
 * The message with what to do about it when the cause is the machine's, not the input (a full disk, a permission).
 * What was committed before the failure stays whole (every lake write is a rename of a finished file, and the next
 * run skips what is already there): the same command, run again, completes the work without duplicating it.
 */
export function withHint(message: string): string {
  if (diskFull(message) && !message.includes('disk is full')) {
    return `${message} (the disk is full: free space where the home's tmp/ and lake/ live, or point --home/C360_HOME or --lake elsewhere; nothing is left half-written, so the same command, run again, completes the work)`;
  }
  if (deniedMessage(message) && !message.includes('the user running c360 may not')) {
    // Reading a drop or listing an input folder is a read; anything else under the home or lake is a write.
    const read = /^Cannot read |\b(scandir|opendir|readdir|lstat|stat)\b/.test(message);
    return read
      ? `${message} (the user running c360 may not read it: give it read access to that file or folder; nothing was changed)`
      : `${message} (the user running c360 may not write there: give it write access to that folder, or point --home/C360_HOME or --lake at one it can write; nothing is left half-written, so the same command, run again, completes the work)`;
  }
  return message;
}

/** Errors of the machine rather than of c360 (a full disk, a folder it may not write): no stack trace is needed. */
export function isEnvironmentError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EMFILE' || code === 'ENFILE';
}
