// The audit log: one JSON line per request that read customer data (who, which role, which people, the answer), to
// a file (appended) or stdout, where Container Apps sends it to Log Analytics.
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
  constructor(readonly target: string) {
    if (target === '-') this.stream = process.stdout;
    else {
      mkdirSync(dirname(target), { recursive: true });
      this.stream = createWriteStream(target, { flags: 'a' });
    }
  }

  write(e: AuditEntry): void {
    this.stream.write(`${JSON.stringify({ audit: 'customer-data-read', ...e })}\n`);
  }

  async close(): Promise<void> {
    if (this.stream === process.stdout) return;
    await new Promise<void>((resolve) => (this.stream as WriteStream).end(resolve));
  }
}
