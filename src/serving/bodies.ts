// Every person's whole profile, as the API sends it to an agent, written once per snapshot by DuckDB (COPY ... FORMAT
// json: one JSON object per line, people in CUSTOMER360_ID order) into a file beside the snapshot's database. The
// server keeps only where each line starts (8 bytes a person) and the ids (sorted, ~25 bytes a person); a lookup is a
// binary search and one read of the line, from the page cache. No query, no JSON parse or stringify, and no JavaScript
// object per person: at a million people the bodies (~4 GB) stay out of the process's memory.
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SortedKeys } from './sorted-keys.ts';

const PREFIX = Buffer.from('{"CUSTOMER360_ID":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

export class ProfileBodies {
  private fd: number | null;
  private constructor(
    readonly file: string,
    fd: number,
    /** Line k (row k) is bytes [starts[k], starts[k + 1] - 1) of the file (the newline left out). */
    private readonly starts: Float64Array,
    /** CUSTOMER360_ID -> row. */
    readonly ids: SortedKeys,
  ) {
    this.fd = fd;
  }

  /**
   * Writes the bodies of `select` (rows ordered by CUSTOMER360_ID, the first column) to `file` and indexes them.
   * `rows`: how many the select gives. The scan reads the file in 8 MB pieces and yields between them, so a build
   * beside a serving snapshot never holds the event loop for long.
   */
  static async write(c: DuckDBConnection, select: string, file: string, rows: number, chunkBytes = 8 << 20): Promise<ProfileBodies> {
    let t = performance.now();
    await c.run(`COPY (${select}) TO '${file.replaceAll("'", "''")}' (FORMAT json)`);
    if (process.env.C360_SERVE_BUILD_TIMING === '1') console.error(`${((performance.now() - t) / 1000).toFixed(2)} s  COPY bodies`);
    t = performance.now();
    const starts = new Float64Array(rows + 1);
    let ids = Buffer.allocUnsafe(Math.max(1024, rows * 24));
    const idStarts = new Uint32Array(rows + 1);
    let idAt = 0;
    let row = 0;
    const fh = await open(file, 'r');
    try {
      let buf = Buffer.allocUnsafe(chunkBytes);
      let filled = 0; // bytes in buf
      let bufPos = 0; // file position of buf[0]
      let eof = false;
      while (!eof || filled > 0) {
        if (!eof) {
          if (filled === buf.length) {
            const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
            buf.copy(bigger, 0, 0, filled);
            buf = bigger;
          }
          const { bytesRead } = await fh.read(buf, filled, buf.length - filled, bufPos + filled);
          if (bytesRead === 0) eof = true;
          filled += bytesRead;
        }
        let lineStart = 0;
        for (let nl = buf.indexOf(NEWLINE, 0); nl >= 0 && nl < filled; nl = buf.indexOf(NEWLINE, lineStart)) {
          if (row >= rows) throw new Error(`Profile bodies: more lines than the ${rows} people in ${file}`);
          if (buf.compare(PREFIX, 0, PREFIX.length, lineStart, lineStart + PREFIX.length) !== 0) {
            throw new Error(`Profile bodies: line ${row + 1} of ${file} does not start with CUSTOMER360_ID`);
          }
          const idFrom = lineStart + PREFIX.length;
          let idTo = idFrom;
          let escaped = false;
          while (idTo < nl && buf[idTo] !== QUOTE) {
            if (buf[idTo] === BACKSLASH) {
              escaped = true;
              idTo++;
            }
            idTo++;
          }
          let id = buf.subarray(idFrom, idTo);
          if (escaped) id = Buffer.from(JSON.parse(buf.toString('utf8', idFrom - 1, idTo + 1)) as string, 'utf8');
          if (idAt + id.length > ids.length) {
            const bigger = Buffer.allocUnsafe(ids.length * 2 + id.length);
            ids.copy(bigger, 0, 0, idAt);
            ids = bigger;
          }
          idStarts[row] = idAt;
          idAt += id.copy(ids, idAt);
          starts[row] = bufPos + lineStart;
          row++;
          lineStart = nl + 1;
        }
        if (eof && lineStart < filled) throw new Error(`Profile bodies: ${file} ends inside a line`);
        // keep the partial last line at the front of the buffer
        buf.copy(buf, 0, lineStart, filled);
        bufPos += lineStart;
        filled -= lineStart;
        if (eof) break;
        await new Promise((r) => setImmediate(r));
      }
      if (row !== rows) throw new Error(`Profile bodies: ${row} lines for ${rows} people in ${file}`);
      starts[rows] = bufPos + filled;
      idStarts[rows] = idAt;
    } finally {
      await fh.close();
    }
    const index = SortedKeys.fromSorted(ids.subarray(0, idAt), idStarts);
    if (process.env.C360_SERVE_BUILD_TIMING === '1') console.error(`${((performance.now() - t) / 1000).toFixed(2)} s  scan bodies`);
    return new ProfileBodies(file, openSync(file, 'r'), starts, index);
  }

  get size(): number {
    return this.ids.size;
  }

  /** The row of a CUSTOMER360_ID, or undefined. */
  rowOf(id: string): number | undefined {
    return this.ids.rows(id)[0];
  }

  /**
   * The body of row k as bytes (a JSON object). A synchronous read: the file was just written, so it is in the page
   * cache, and a read of a few kilobytes costs microseconds where a trip through the thread pool costs more.
   */
  body(row: number): Buffer {
    if (this.fd === null) throw new Error('Profile bodies are closed');
    const from = this.starts[row]!;
    const length = this.starts[row + 1]! - from - 1;
    const out = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, out, got, length - got, from + got);
      if (n === 0) throw new Error(`Profile bodies: ${this.file} is shorter than its index`);
      got += n;
    }
    return out;
  }

  /** Bytes of index held in memory (the bodies themselves stay in the file). */
  get indexBytes(): number {
    return this.starts.byteLength + this.ids.byteSize;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
