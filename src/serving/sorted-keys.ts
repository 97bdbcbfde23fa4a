// An immutable lookup from string keys to row numbers, for the serving snapshot's point lookups (c360 id, e-mail key,
// phone, source id): the keys sorted in one Buffer with their offsets and rows in typed arrays, found by binary
// search. A million keys take ~30 MB outside the JavaScript heap, so the garbage collector never walks them (a Map of
// a million strings would be ~100 MB of heap objects whose marking shows up as latency), and a lookup is ~20
// comparisons of bytes. A key may repeat (an e-mail shared by two people): every row of the key is returned.
import type { DuckDBConnection } from '@duckdb/node-api';

export interface SortedKeyParts {
  bytes: Buffer;
  starts: Uint32Array;
  rowOf: Uint32Array;
}

export class SortedKeys {
  private constructor(
    private readonly bytes: Buffer,
    /** Key i is bytes[starts[i], starts[i + 1]). */
    private readonly starts: Uint32Array,
    private readonly rowOf: Uint32Array,
    readonly size: number,
  ) {}

  static empty(): SortedKeys {
    return new SortedKeys(Buffer.alloc(0), new Uint32Array(1), new Uint32Array(0), 0);
  }

  /**
   * Reads (key VARCHAR, row INTEGER) pairs from a query ordered by key, chunk by chunk: DuckDB's VARCHAR order is the
   * byte order of UTF-8, which is what the search compares; an out-of-order key is an error, not a silent miss.
   */
  static async fromQuery(c: DuckDBConnection, sql: string): Promise<SortedKeys> {
    const t0 = performance.now();
    const size = await c.runAndReadAll(`SELECT count(*)::BIGINT AS n, coalesce(sum(strlen(k)), 0)::BIGINT AS b FROM (${sql}) t(k, r)`);
    const [n, b] = size.getRows()[0]!.map(Number) as [number, number];
    if (b >= 2 ** 32) throw new Error(`Lookup keys of ${b} bytes are more than one index holds (4 GiB)`);
    const bytes = Buffer.allocUnsafe(b);
    const starts = new Uint32Array(n + 1);
    const rowOf = new Uint32Array(n);
    const result = await c.stream(sql);
    let i = 0;
    let at = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const keys = chunk.getColumnValues(0) as (string | null)[];
      const rows = chunk.getColumnValues(1);
      for (let j = 0; j < keys.length; j++) {
        const k = keys[j];
        if (k === null || k === undefined) continue;
        if (i >= n) throw new Error('Lookup keys changed while they were read');
        starts[i] = at;
        at += bytes.write(k, at, 'utf8');
        rowOf[i] = Number(rows[j]);
        // bytes.compare(target, tStart, tEnd, sStart, sEnd) orders this key (source) against the one before (target)
        if (i > 0 && bytes.compare(bytes, starts[i - 1]!, starts[i]!, starts[i]!, at) < 0) {
          throw new Error(`Lookup keys are not in byte order at '${k.slice(0, 40)}'`);
        }
        i++;
      }
    }
    starts[i] = at;
    if (process.env.C360_SERVE_BUILD_TIMING === '1') console.error(`${((performance.now() - t0) / 1000).toFixed(2)} s  keys ${sql.slice(0, 60)}`);
    return new SortedKeys(bytes, starts, rowOf, i);
  }

  /** Builds from keys already sorted by byte order (the body file's ids), row = position. */
  static fromSorted(keys: Buffer, starts: Uint32Array): SortedKeys {
    const n = starts.length - 1;
    for (let i = 1; i < n; i++) {
      if (keys.compare(keys, starts[i - 1]!, starts[i]!, starts[i]!, starts[i + 1]!) <= 0) throw new Error(`Ids are not unique and in byte order at position ${i}`);
    }
    return new SortedKeys(keys, starts, Uint32Array.from({ length: n }, (_, i) => i), n);
  }

  /** Rows of `key` (none: empty), in the order the query gave them. */
  rows(key: string): number[] {
    const k = Buffer.from(key, 'utf8');
    let lo = 0;
    let hi = this.size;
    // first index whose key is >= k
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bytes.compare(k, 0, k.length, this.starts[mid]!, this.starts[mid + 1]!) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < this.size && this.bytes.compare(k, 0, k.length, this.starts[i]!, this.starts[i + 1]!) === 0; i++) out.push(this.rowOf[i]!);
    return out;
  }

  /** The arrays it is made of, to hand to another process (snapshot-builder.ts). */
  parts(): SortedKeyParts {
    return { bytes: this.bytes, starts: this.starts, rowOf: this.rowOf };
  }

  static fromParts(p: SortedKeyParts): SortedKeys {
    return new SortedKeys(p.bytes, p.starts, p.rowOf, p.rowOf.length);
  }

  /** The key at a position (tests, error messages). */
  keyAt(i: number): string {
    return this.bytes.toString('utf8', this.starts[i], this.starts[i + 1]);
  }

  /** Bytes held outside the JavaScript heap. */
  get byteSize(): number {
    return this.bytes.length + this.starts.byteLength + this.rowOf.byteLength;
  }
}
