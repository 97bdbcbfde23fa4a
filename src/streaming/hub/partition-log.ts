// One partition of the local Event Hubs endpoint: an append-only log of encoded AMQP messages. The offset of an
// event is its byte position in the log (as in Event Hubs), its sequence number its index. With a data folder the
// log lives in a file (a 1M-event backlog costs the endpoint only its index in memory); without one, in memory.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const HEADER = 16; // u32 length, u32 reserved, f64 enqueued time (ms)

export interface StoredEvent {
  sequenceNumber: number;
  offset: number;
  enqueuedTime: number;
  /** The complete encoded AMQP message, annotations included: sent to receivers as is. */
  encoded: Buffer;
}

/** A growable array of doubles: a million positions cost 8 MB, not a million JS objects. */
class NumberColumn {
  private data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i]!;
  }
  /** First index whose value satisfies value > x (inclusive: >= x); values are non-decreasing. */
  firstAbove(x: number, inclusive: boolean): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.data[mid]!;
      if (inclusive ? v >= x : v > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export class PartitionLog {
  readonly offsets = new NumberColumn();
  readonly times = new NumberColumn();
  private size = 0;
  private readonly fd: number | undefined;
  private readonly memory: Buffer[] = [];
  private lastTime = 0;

  constructor(
    readonly hub: string,
    readonly partitionId: string,
    file?: string,
  ) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      const existed = existsSync(file);
      this.fd = openSync(file, existed ? 'r+' : 'w+');
      if (existed) this.recover();
    }
  }

  /** Rebuilds the index from the file; a torn last record (crash mid-append) is ignored and overwritten. */
  private recover(): void {
    const total = fstatSync(this.fd!).size;
    const header = Buffer.alloc(HEADER);
    let pos = 0;
    while (pos + HEADER <= total) {
      readSync(this.fd!, header, 0, HEADER, pos);
      const len = header.readUInt32LE(0);
      if (pos + HEADER + len > total) break;
      const t = header.readDoubleLE(8);
      this.offsets.push(pos);
      this.times.push(t);
      this.lastTime = t;
      pos += HEADER + len;
    }
    this.size = pos;
  }

  get count(): number {
    return this.offsets.length;
  }

  /** The offset the next event will get. */
  get nextOffset(): number {
    return this.size;
  }

  /** Enqueued time for the next event: wall clock, never going backwards within a partition. */
  nextTime(): number {
    return Math.max(Date.now(), this.lastTime);
  }

  append(encoded: Buffer, enqueuedTime: number): number {
    const seq = this.count;
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(encoded.length, 0);
    header.writeDoubleLE(enqueuedTime, 8);
    if (this.fd !== undefined) {
      writeSync(this.fd, Buffer.concat([header, encoded]), 0, HEADER + encoded.length, this.size);
    } else {
      this.memory.push(encoded);
    }
    this.offsets.push(this.size);
    this.times.push(enqueuedTime);
    this.lastTime = enqueuedTime;
    this.size += HEADER + encoded.length;
    return seq;
  }

  /** Up to `max` events from sequence number `from`, read from the file in one piece. */
  read(from: number, max: number): Buffer[] {
    const to = Math.min(this.count, from + max);
    if (from >= to) return [];
    if (this.fd === undefined) return this.memory.slice(from, to);
    const start = this.offsets.get(from);
    const end = to < this.count ? this.offsets.get(to) : this.size;
    const chunk = Buffer.allocUnsafe(end - start);
    readSync(this.fd, chunk, 0, chunk.length, start);
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const len = chunk.readUInt32LE(pos);
      out.push(chunk.subarray(pos + HEADER, pos + HEADER + len));
      pos += HEADER + len;
    }
    return out;
  }

  /** The sequence number a receiver starts at for an Event Hubs selector filter (see parseSelector). */
  startFor(sel: Selector): number {
    switch (sel.kind) {
      case 'earliest':
        return 0;
      case 'latest':
        return this.count;
      case 'offset':
        return this.offsets.firstAbove(sel.value, sel.inclusive);
      case 'sequence':
        return Math.max(0, Math.min(this.count, sel.inclusive ? sel.value : sel.value + 1));
      case 'time':
        return this.times.firstAbove(sel.value, sel.inclusive);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

export type Selector =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset' | 'sequence' | 'time'; value: number; inclusive: boolean };

/**
 * Parses the `apache.org:selector-filter:string` expression the client sends, e.g.
 * `amqp.annotation.x-opt-offset > '-1'`, `amqp.annotation.x-opt-sequence-number >= '42'`,
 * `amqp.annotation.x-opt-enqueued-time > '1700000000000'`.
 */
export function parseSelector(expr: string | undefined): Selector {
  if (!expr) return { kind: 'earliest' };
  const m = /^\s*amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*'?([^']*)'?\s*$/i.exec(expr);
  if (!m) throw new Error(`Unsupported selector filter: ${expr}`);
  const [, field, op, raw] = m;
  const inclusive = op === '>=';
  if (field === 'offset') {
    if (raw === '@latest') return { kind: 'latest' };
    if (raw === '-1') return { kind: 'earliest' };
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`Bad value in selector filter: ${expr}`);
  return { kind: field === 'offset' ? 'offset' : field === 'sequence-number' ? 'sequence' : 'time', value, inclusive };
}
