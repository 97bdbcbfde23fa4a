// The audit log: one JSON line per request that read customer data (who, which role, which people, the answer), to
// a file (appended) or stdout, where Container Apps sends it to Log Analytics. Lines are gathered for a few
// milliseconds and appended in one write, so under load the log costs one system call per batch, not per request.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface AuditEntry {
  time: string;
  requestId: string;
  principal: string;
  role: string;
  via: string;
  method: string;
  path: string;
  status: number;
  /** People whose data was returned (or asked for). */
  customers: string[];
  idType?: string;
  fields?: string[];
  asOf?: string;
}

export class AuditLog {
  private readonly stream: WriteStream | NodeJS.WriteStream;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    readonly target: string,
    /** Milliseconds lines wait to be written together. */
    private readonly batchMs = 20,
  ) {
    if (target === '-') this.stream = process.stdout;
    else {
      mkdirSync(dirname(target), { recursive: true });
      this.stream = createWriteStream(target, { flags: 'a' });
    }
  }

  write(e: AuditEntry): void {
    this.pending.push(`${JSON.stringify({ audit: 'customer-data-read', ...e })}\n`);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.stream.write(text);
  }

  async close(): Promise<void> {
    this.flush();
    if (this.stream === process.stdout) return;
    await new Promise<void>((resolve) => (this.stream as WriteStream).end(resolve));
  }
}
