// Every person's whole profile, as the API sends it to an agent, written once per snapshot by DuckDB (COPY ... FORMAT
// json: one JSON object per line, people in CUSTOMER360_ID order, in batches of files) beside the snapshot's database.
// The server keeps only where each line starts and its length (12 bytes a person) and the ids (sorted, ~25 bytes a
// person); a lookup is a binary search and one read of the line, from the page cache. No query, no JSON parse or
// stringify, and no JavaScript object per person: at a million people the bodies (~4 GB) stay out of the process's
// memory.
import { closeSync, openSync, read } from 'node:fs';
import { open } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SortedKeys } from './sorted-keys.ts';

const PREFIX = Buffer.from('{"CUSTOMER360_ID":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

export class ProfileBodies {
  private fds: number[] | null;
  private constructor(
    /** The body files, in row order; file i holds rows firstRows[i] .. firstRows[i + 1] - 1. */
    readonly files: readonly string[],
    readonly firstRows: Uint32Array,
    /** Line k (row k) is bytes [starts[k], starts[k] + lengths[k]) of its file (the newline left out). */
    private readonly starts: Float64Array,
    private readonly lengths: Uint32Array,
    /** CUSTOMER360_ID -> row. */
    readonly ids: SortedKeys,
  ) {
    this.fds = files.map((f) => openSync(f, 'r'));
  }

  /**
   * Writes the bodies of `selects` (each a batch of rows ordered by CUSTOMER360_ID, the first column, the batches in
   * order) to one file each (`${file}.N`) and indexes them. Batches keep DuckDB's memory bounded: the lists of a
   * million people's recommendations do not fit a 3 GB limit at once. `rows`: how many they give in all. The scan
   * reads each file in 1 MB pieces and yields between them, so it never holds the event loop for long.
   */
  static async write(c: DuckDBConnection, selects: readonly string[], file: string, rows: number, chunkBytes = 1 << 20): Promise<ProfileBodies> {
    const timing = process.env.C360_SERVE_BUILD_TIMING === '1';
    const starts = new Float64Array(rows);
    const lengths = new Uint32Array(rows);
    let ids = Buffer.allocUnsafe(Math.max(1024, rows * 24));
    const idStarts = new Uint32Array(rows + 1);
    const files: string[] = [];
    const firstRows = new Uint32Array(selects.length + 1);
    let idAt = 0;
    let row = 0;
    for (const [n, select] of selects.entries()) {
      const path = `${file}.${n}`;
      files.push(path);
      firstRows[n] = row;
      let t = performance.now();
      await c.run(`COPY (${select}) TO '${path.replaceAll("'", "''")}' (FORMAT json)`);
      if (timing) console.error(`${((performance.now() - t) / 1000).toFixed(2)} s  COPY bodies batch ${n}`);
      t = performance.now();
      const fh = await open(path, 'r');
      try {
        // Not fdatasync'd here: flushing each 100,000 people's ~470 MB at once made the requests during a build at a
        // million people five times as often slow as leaving the writing to the kernel (docs/serving.md).
        let buf = Buffer.allocUnsafe(chunkBytes);
        let filled = 0; // bytes in buf
        let bufPos = 0; // file position of buf[0]
        let eof = false;
        for (;;) {
          if (filled === buf.length) {
            const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
            buf.copy(bigger, 0, 0, filled);
            buf = bigger;
          }
          const { bytesRead } = await fh.read(buf, filled, buf.length - filled, bufPos + filled);
          if (bytesRead === 0) eof = true;
          filled += bytesRead;
          let lineStart = 0;
          for (let nl = buf.indexOf(NEWLINE, 0); nl >= 0 && nl < filled; nl = buf.indexOf(NEWLINE, lineStart)) {
            if (row >= rows) throw new Error(`Profile bodies: more lines than the ${rows} people`);
            if (buf.compare(PREFIX, 0, PREFIX.length, lineStart, lineStart + PREFIX.length) !== 0) {
              throw new Error(`Profile bodies: line ${row - firstRows[n]! + 1} of ${path} does not start with CUSTOMER360_ID`);
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
            lengths[row] = nl - lineStart;
            row++;
            lineStart = nl + 1;
          }
          if (eof) {
            if (lineStart < filled) throw new Error(`Profile bodies: ${path} ends inside a line`);
            break;
          }
          // keep the partial last line at the front of the buffer
          buf.copy(buf, 0, lineStart, filled);
          bufPos += lineStart;
          filled -= lineStart;
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        await fh.close();
      }
      if (timing) console.error(`${((performance.now() - t) / 1000).toFixed(2)} s  scan bodies batch ${n}`);
    }
    if (row !== rows) throw new Error(`Profile bodies: ${row} lines for ${rows} people`);
    firstRows[selects.length] = rows;
    idStarts[rows] = idAt;
    return new ProfileBodies(files, firstRows, starts, lengths, SortedKeys.fromSorted(ids.subarray(0, idAt), idStarts));
  }

  /** Opens body files written (and indexed) by another process, from the arrays parts() gave. */
  static open(p: BodyParts, ids: SortedKeys): ProfileBodies {
    return new ProfileBodies(p.files, p.firstRows, p.starts, p.lengths, ids);
  }

  /** The index's arrays, to hand to another process with the ids (snapshot-builder.ts). */
  parts(): BodyParts {
    return { files: this.files, firstRows: this.firstRows, starts: this.starts, lengths: this.lengths };
  }

  get size(): number {
    return this.ids.size;
  }

  /** The row of a CUSTOMER360_ID, or undefined. */
  rowOf(id: string): number | undefined {
    return this.ids.rows(id)[0];
  }

  /**
   * The body of row k as bytes (a JSON object). Read through libuv's thread pool, never on the event loop: the files
   * are normally in the page cache (a read of microseconds), but where they are not (a container whose memory limit
   * holds only part of them, a disk busy writing the next snapshot) a synchronous read would stop every request in
   * flight for the disk's time, not just this one.
   */
  async body(row: number): Promise<Buffer> {
    const fds = this.fds;
    if (fds === null) throw new Error('Profile bodies are closed');
    let f = 0;
    while (this.firstRows[f + 1]! <= row) f++;
    const from = this.starts[row]!;
    const length = this.lengths[row]!;
    const out = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = await new Promise<number>((resolve, reject) => read(fds[f]!, out, got, length - got, from + got, (e, bytes) => (e ? reject(e) : resolve(bytes))));
      if (n === 0) throw new Error(`Profile bodies: ${this.files[f]} is shorter than its index`);
      got += n;
    }
    return out;
  }

  /** Bytes of index held in memory (the bodies themselves stay in the files). */
  get indexBytes(): number {
    return this.starts.byteLength + this.lengths.byteLength + this.ids.byteSize;
  }

  close(): void {
    for (const fd of this.fds ?? []) closeSync(fd);
    this.fds = null;
  }
}

export interface BodyParts {
  files: readonly string[];
  firstRows: Uint32Array;
  starts: Float64Array;
  lengths: Uint32Array;
}
