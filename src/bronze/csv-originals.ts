// The original text of chosen records of a CSV drop, for quarantine's `_source_record`: one pass over the file's
// bytes (newlines and quotes found with Buffer.indexOf), keeping the text of the wanted records only. DuckDB's reader
// gives a record's fields, not its text or line; doing this in SQL (lines, running quote counts, a text per record)
// doubled Bronze's CPU time. Most files have no record spanning lines: for them a pass over the newlines alone finds
// the same records at a sixth of the cost of following the quotes, and the reader's own count tells which files
// those are (see csvOriginals).
import { createReadStream } from 'node:fs';

export interface CsvDialect {
  /** One character, or '' (no quoting). */
  quote: string;
  /** One character, or '' (none, or the quote doubled). */
  escape: string;
  /** Header lines to pass: skipped rows plus the header. */
  before: number;
}

export interface CsvOriginal {
  /** Stage row (0-based among the records the reader returned), or null for a record it rejected. */
  k: number | null;
  /** The record's number among the file's data records (1-based, rejected ones counted). */
  recno: number;
  /** The reader's line number for it (as its rejects give it: a record spanning lines counts once, blank lines count). */
  line: number;
  /** Its first line in the file (1-based). */
  firstLine: number;
  text: string;
  /** The record's bytes when they are not valid UTF-8 (the text then holds U+FFFD for them). */
  bytes?: Buffer;
}

type Want = { rows: ReadonlySet<number>; lines: ReadonlySet<number>; rejected: ReadonlySet<number> };

/**
 * Walks the records of `file`: a record runs on over the next line while a quote is open; its text is its bytes up to
 * the line ending after it (\n or \r\n, not included). Returns the records whose stage row is in `rows` or whose reader
 * line is in `lines`, and how many records the reader returned (data records, blank lines and `rejected` lines aside).
 *
 * `readerRows`: how many rows the reader returned, for a file of two or more columns that it rejected nothing of. The
 * newlines alone are walked first, each non-blank line taken as one record: the reader returns no row for a blank line
 * of such a file, and one for each record, so a record spanning lines (a quoted line break) makes the lines outnumber
 * its rows. When they are as many, every record is one line and the pass stands; otherwise the quotes are followed.
 */
export async function csvOriginals(file: string, d: CsvDialect, want: Want, readerRows?: number): Promise<{ records: CsvOriginal[]; returned: number }> {
  if (readerRows !== undefined && want.rejected.size === 0 && want.lines.size === 0) {
    const lines = await walk(file, { ...d, quote: '', escape: '' }, want);
    if (lines.returned === readerRows) return lines;
  }
  return walk(file, d, want);
}

async function walk(file: string, d: CsvDialect, want: Want): Promise<{ records: CsvOriginal[]; returned: number }> {
  const quote = d.quote ? d.quote.charCodeAt(0) : -1;
  const escape = d.escape && d.escape !== d.quote ? d.escape.charCodeAt(0) : -1;
  const records: CsvOriginal[] = [];
  let inQuote = false;
  let lineNo = 0; // physical lines seen
  let rec = 0; // reader line numbering
  let recno = 0;
  let returned = 0;
  // The current record: its chunks of bytes (kept only while it may be wanted), first line, whether blank so far.
  let parts: Buffer[] = [];
  let recFirst = 0;
  let recBlank = true;

  const finish = () => {
    if (rec === 0) return;
    const data = rec > d.before && !recBlank;
    if (data) {
      recno++;
      const rejected = want.rejected.has(rec);
      const k = rejected ? null : returned++;
      if ((k !== null && want.rows.has(k)) || want.lines.has(rec)) {
        const all = Buffer.concat(parts);
        const end = all.length - (all[all.length - 1] === 10 ? (all[all.length - 2] === 13 ? 2 : 1) : 0);
        const raw = all.subarray(0, end);
        const text = raw.toString('utf8');
        records.push({ k, recno, line: rec, firstLine: recFirst, text, ...(Buffer.byteLength(text) === raw.length && Buffer.from(text).equals(raw) ? {} : { bytes: Buffer.from(raw) }) });
      }
    }
  };

  let carry: Buffer | undefined;
  const stream = createReadStream(file, { highWaterMark: 4 << 20 });
  const noRejects = want.rejected.size === 0 && want.lines.size === 0;
  /** Walks the whole lines of buf from `from`; returns where the unfinished last line starts. */
  const lines = (buf: Buffer, from: number): number => {
    let pos = from;
    // Quotes are found with indexOf, jumping from one to the next: no byte of a line is looked at in JavaScript
    // unless the dialect has an escape other than the quote and the line holds it.
    let nextQuote = quote < 0 ? -1 : buf.indexOf(quote, from);
    let nextEscape = escape < 0 ? -1 : buf.indexOf(escape, from);
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      lineNo++;
      if (!inQuote) {
        finish();
        rec++;
        parts = [];
        recFirst = lineNo;
        recBlank = true;
      }
      const len = nl - pos;
      if (len > 1 || (len === 1 && buf[pos] !== 13) || inQuote) recBlank = false;
      if (nextEscape >= 0 && nextEscape < nl) {
        // An escape character of its own (not the doubled quote): walk the line byte by byte.
        for (let i = pos; i < nl; i++) {
          const b = buf[i]!;
          if (inQuote && b === escape) i++;
          else if (b === quote) inQuote = !inQuote;
        }
        nextEscape = buf.indexOf(escape, nl);
        if (nextQuote >= 0) nextQuote = buf.indexOf(quote, nl);
      } else {
        while (nextQuote >= 0 && nextQuote < nl) {
          inQuote = !inQuote;
          nextQuote = buf.indexOf(quote, nextQuote + 1);
        }
      }
      // Keep the bytes of a record that may be wanted: only what the reader returns next, or a line it rejected.
      if (noRejects ? rec > d.before && want.rows.has(returned) : (rec > d.before && !want.rejected.has(rec) && want.rows.has(returned)) || want.lines.has(rec)) {
        parts.push(Buffer.from(buf.subarray(pos, nl + 1)));
      }
      pos = nl + 1;
    }
    return pos;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    if (carry) {
      // The line left over from the last chunk is finished with this chunk's first line, on its own: the chunk itself
      // is walked where it lies (copying every 4 MB chunk onto the carry was a copy of the whole file, and garbage).
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      lines(Buffer.concat([carry, chunk.subarray(0, nl + 1)]), 0);
      carry = undefined;
      from = nl + 1;
    }
    const rest = lines(chunk, from);
    if (rest < chunk.length) carry = Buffer.from(chunk.subarray(rest));
  }
  // The last line, without a line ending.
  if (carry && carry.length > 0) {
    lineNo++;
    if (!inQuote) {
      finish();
      rec++;
      parts = [];
      recFirst = lineNo;
      recBlank = true;
    }
    if (carry.length > 1 || carry[0] !== 13) recBlank = false;
    const k = want.rejected.has(rec) ? -1 : returned;
    if ((rec > d.before && want.rows.has(k)) || want.lines.has(rec)) parts.push(carry);
  }
  finish();
  return { records, returned };
}

/**
 * Whether the reader's text of a rejected record (its csv_line) and the file's agree on the first line, so the
 * reader's line number named the record found: equal, or equal up to where the reader replaced bytes it could not
 * decode (it writes '?' for them), after at least 4 characters.
 */
export function sameRecord(reader: string, file: string): boolean {
  const first = (t: string) => t.replace(/^[\r\n]+/, '').split('\n')[0]!.replace(/\r$/, '');
  const a = first(reader);
  const b = first(file);
  if (a === b) return true;
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n] && a[n] !== '?') n++;
  return n >= 4 && (a[n] === '?' || b.charCodeAt(n) > 127 || b[n] === '\ufffd');
}
