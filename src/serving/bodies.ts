// Every person's whole profile, as the API sends it to an agent, written once per snapshot: DuckDB writes each batch
// of people as JSON lines (COPY ... FORMAT json, people in CUSTOMER360_ID order) to a temporary file, which is read
// back line by line, each line compressed on its own (raw deflate with a preset dictionary: one profile, so the ~110
// field names and the shapes every profile shares cost almost nothing; ~7x smaller) into the batch's body file, and
// deleted at once. The JSON is gone before the kernel would write it back (it writes dirty pages after 30 s), so a
// build writes to disk ~0.7 KB a person, not ~5 KB: at a million people ~0.7 GB instead of ~5 GB, the writing that
// slowed every process on the machine during a build (docs/serving.md). The server keeps only where each compressed
// line starts and its length (12 bytes a person), the dictionary and the ids (sorted, ~25 bytes a person); a lookup is
// a binary search, one read of ~0.7 KB from the page cache and an inflate (~20 µs). No query, no JSON parse or
// stringify, and no JavaScript object per person: the bodies stay out of the process's memory (and take a seventh of
// the page cache they did).
import { closeSync, openSync, read } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { buildStep } from './build-timing.ts';
import { SortedKeys } from './sorted-keys.ts';

const PREFIX = Buffer.from('{"CUSTOMER360_ID":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** An 8 KB window: a profile (~5 KB) and its dictionary fit, and each compression sets up a small state (~2x faster than 32 KB). */
const WINDOW_BITS = 13;
/** Level 1: the dictionary does most of the work; higher levels cost 1.5-2x the build's CPU for ~15% fewer bytes. */
const LEVEL = 1;

export class ProfileBodies {
  private fds: number[] | null;
  private constructor(
    /** The body files, in row order; file i holds rows firstRows[i] .. firstRows[i + 1] - 1. */
    readonly files: readonly string[],
    readonly firstRows: Uint32Array,
    /** Row k is bytes [starts[k], starts[k] + lengths[k]) of its file: its JSON line (no newline), deflated. */
    private readonly starts: Float64Array,
    private readonly lengths: Uint32Array,
    /** CUSTOMER360_ID -> row. */
    readonly ids: SortedKeys,
    /** The preset dictionary every line was compressed with. */
    private readonly dictionary: Uint8Array,
  ) {
    this.fds = files.map((f) => openSync(f, 'r'));
  }

  /**
   * Writes the bodies of `selects` (each a batch of rows ordered by CUSTOMER360_ID, the first column, the batches in
   * order) to one file each (`${file}.N`), each line compressed, and indexes them. Batches keep DuckDB's memory bounded
   * (the lists of a million people's recommendations do not fit a 3 GB limit at once) and the temporary JSON small
   * (~0.5 GB a batch, deleted before the next). `rows`: how many they give in all. The scan reads the JSON in
   * `chunkBytes` pieces and yields between them.
   */
  static async write(c: DuckDBConnection, selects: readonly string[], file: string, rows: number, chunkBytes = 1 << 20): Promise<ProfileBodies> {
    const starts = new Float64Array(rows);
    const lengths = new Uint32Array(rows);
    let ids = Buffer.allocUnsafe(Math.max(1024, rows * 24));
    const idStarts = new Uint32Array(rows + 1);
    const files: string[] = [];
    const firstRows = new Uint32Array(selects.length + 1);
    let dictionary: Buffer | null = null;
    let idAt = 0;
    let row = 0;
    for (const [n, select] of selects.entries()) {
      const path = `${file}.${n}`;
      const json = `${path}.json`;
      files.push(path);
      firstRows[n] = row;
      let t = performance.now();
      await c.run(`COPY (${select}) TO '${json.replaceAll("'", "''")}' (FORMAT json)`);
      buildStep(t, `COPY bodies batch ${n}`);
      t = performance.now();
      const fh = await open(json, 'r');
      const out = await open(path, 'w');
      let outBuf = Buffer.allocUnsafe(chunkBytes);
      let outFilled = 0;
      let outPos = 0; // file position of outBuf[0]
      try {
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
              throw new Error(`Profile bodies: line ${row - firstRows[n]! + 1} of ${json} does not start with CUSTOMER360_ID`);
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
            const line = buf.subarray(lineStart, nl);
            // the first profile is the dictionary (its last 8 KB, the window): every other profile shares its field names
            dictionary ??= Buffer.from(line.subarray(Math.max(0, line.length - (1 << WINDOW_BITS))));
            const packed = deflateRawSync(line, { level: LEVEL, windowBits: WINDOW_BITS, dictionary });
            if (outFilled + packed.length > outBuf.length) {
              await writeAll(out, outBuf.subarray(0, outFilled), outPos);
              outPos += outFilled;
              outFilled = 0;
              if (packed.length > outBuf.length) outBuf = Buffer.allocUnsafe(packed.length);
            }
            starts[row] = outPos + outFilled;
            lengths[row] = packed.length;
            outFilled += packed.copy(outBuf, outFilled);
            row++;
            lineStart = nl + 1;
          }
          if (eof) {
            if (lineStart < filled) throw new Error(`Profile bodies: ${json} ends inside a line`);
            break;
          }
          // keep the partial last line at the front of the buffer
          buf.copy(buf, 0, lineStart, filled);
          bufPos += lineStart;
          filled -= lineStart;
          await new Promise((r) => setImmediate(r));
        }
        await writeAll(out, outBuf.subarray(0, outFilled), outPos);
      } finally {
        await fh.close();
        await out.close();
        // Deleted before the kernel writes it back (it writes dirty pages once they are 30 s old or the dirty share
        // of memory is large, neither reached by one batch), so its ~0.5 GB never reach the disk.
        await rm(json, { force: true });
      }
      buildStep(t, `scan and compress bodies batch ${n}`);
    }
    if (row !== rows) throw new Error(`Profile bodies: ${row} lines for ${rows} people`);
    firstRows[selects.length] = rows;
    idStarts[rows] = idAt;
    return new ProfileBodies(files, firstRows, starts, lengths, SortedKeys.fromSorted(ids.subarray(0, idAt), idStarts), dictionary ?? Buffer.alloc(0));
  }

  /** Opens body files written (and indexed) by another process, from the arrays parts() gave. */
  static open(p: BodyParts, ids: SortedKeys): ProfileBodies {
    return new ProfileBodies(p.files, p.firstRows, p.starts, p.lengths, ids, p.dictionary);
  }

  /** The index's arrays, to hand to another process with the ids (snapshot-builder.ts). */
  parts(): BodyParts {
    return { files: this.files, firstRows: this.firstRows, starts: this.starts, lengths: this.lengths, dictionary: this.dictionary };
  }

  get size(): number {
    return this.ids.size;
  }

  /** The row of a CUSTOMER360_ID, or undefined. */
  rowOf(id: string): number | undefined {
    return this.ids.rows(id)[0];
  }

  /**
   * The body of row k as bytes (a JSON object). The compressed line is read through libuv's thread pool, never on
   * the event loop, and inflated here (~20 µs: cheaper than a second trip through the pool): the files
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
    return inflateRawSync(out, { windowBits: WINDOW_BITS, dictionary: this.dictionary });
  }

  /** Bytes of index held in memory (the bodies themselves stay in the files). */
  get indexBytes(): number {
    return this.starts.byteLength + this.lengths.byteLength + this.ids.byteSize + this.dictionary.byteLength;
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
  dictionary: Uint8Array;
}

/** Writes all of buf at pos (a write may take less). */
async function writeAll(fh: FileHandle, buf: Buffer, pos: number): Promise<void> {
  for (let at = 0; at < buf.length; ) at += (await fh.write(buf, at, buf.length - at, pos + at)).bytesWritten;
}
