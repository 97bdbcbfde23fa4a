// Rows spooled to a scratch CSV file, later read by DuckDB's parallel CSV reader and copied to Parquet. Much faster
// than a row-by-row appender from JS, and memory stays flat: only a small buffer is held.
import { closeSync, openSync, writeSync } from 'node:fs';
import { ident, lit } from '../engine/duckdb.ts';

export type TextRow = (string | null)[];

const NEEDS_QUOTES = /[",\r\n]/;
const FLUSH_CHARS = 1 << 16;

export class CsvSpool {
  private fd: number | null;
  private lines: string[] = [];
  private size = 0;
  rows = 0;

  constructor(
    readonly path: string,
    readonly columns: readonly { name: string; type: string }[],
  ) {
    this.fd = openSync(path, 'w');
  }

  /** null is written as an empty field, '' as "" (read back with allow_quoted_nulls = false). */
  write(row: TextRow): void {
    let quote = false;
    for (const v of row) {
      if (v === '' || (v !== null && NEEDS_QUOTES.test(v))) {
        quote = true;
        break;
      }
    }
    // Array.join writes null as an empty field and builds one flat string (cheaper to write than a concatenation).
    const line = quote ? row.map((v) => (v === null ? null : v === '' || NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',') : row.join(',');
    this.lines.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.lines.length === 0) return;
    if (this.fd === null) throw new Error(`sample spool ${this.path} is closed`);
    this.lines.push('');
    writeSync(this.fd, this.lines.join('\n'));
    this.lines = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  /** Releases the file after a failure (nothing more is written). */
  closeQuietly(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already failing; the scratch folder is removed next
    }
    this.fd = null;
  }

  /** A DuckDB table expression reading the spool back with the declared column types, in file order. */
  reader(): string {
    const cols = this.columns.map((c) => `${lit(c.name)}: ${lit(c.type)}`).join(', ');
    return `read_csv(${lit(this.path)}, header = false, auto_detect = false, columns = {${cols}}, delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false)`;
  }

  /** SELECT list naming every column (quoted). */
  selectList(): string {
    return this.columns.map((c) => ident(c.name)).join(', ');
  }
}
