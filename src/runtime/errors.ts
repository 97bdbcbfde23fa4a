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
  if (error instanceof C360Error) return error.transient;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN' || code === 'ECONNREFUSED' || code === 'EBUSY';
}
