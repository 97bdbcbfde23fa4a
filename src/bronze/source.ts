// Reading a drop as all-VARCHAR: CSV with all_varchar, Parquet cast column by column, NDJSON one object per line
// with every value as text (nested values as JSON text). Validation then sees the same strings for every format.
import { open, stat } from 'node:fs/promises';
import { Engine, ident, lit } from '../engine/duckdb.ts';
import { C360Error, UsageError } from '../runtime/errors.ts';
import type { CsvDialect } from './csv-originals.ts';

export type DropFormat = 'csv' | 'parquet' | 'ndjson';
export const DROP_FORMATS: readonly DropFormat[] = ['csv', 'parquet', 'ndjson'];

/** File extensions of drops, longest first so .csv.gz wins over .gz. */
export const DROP_EXTENSIONS: readonly [string, DropFormat][] = [
  ['.csv.gz', 'csv'],
  ['.csv', 'csv'],
  ['.parquet', 'parquet'],
  ['.ndjson', 'ndjson'],
  ['.jsonl', 'ndjson'],
];

export function formatOf(path: string, explicit?: string): DropFormat {
  if (explicit !== undefined) {
    if (!DROP_FORMATS.includes(explicit as DropFormat)) throw new UsageError(`Unknown format '${explicit}'. Formats: ${DROP_FORMATS.join(', ')}`);
    return explicit as DropFormat;
  }
  const lower = path.toLowerCase();
  const hit = DROP_EXTENSIONS.find(([ext]) => lower.endsWith(ext));
  if (!hit) throw new UsageError(`Cannot tell the format of '${path}' from its extension (${DROP_EXTENSIONS.map(([e]) => e).join(', ')}); pass the format explicitly (--format csv|parquet|ndjson).`);
  return hit[1];
}

/** A relation whose columns are the received fields, all VARCHAR, plus an optional `__c360_pos` position. */
export interface VarcharSource {
  /** SELECT statement (no trailing semicolon). */
  sql: string;
  /** Received column names in received order. */
  columns: string[];
  /** Whether the SELECT carries `__c360_pos` (a VARCHAR source position given by the caller). */
  hasPosition: boolean;
  /**
   * Whether the SELECT carries `__c360_seq` (BIGINT 0-based row number from the reader). Without it, positions come
   * from staging in input order (rowid), which costs an order-preserving insert.
   */
  hasSeq: boolean;
  /** Whether the reader yields null, never '', for an empty field (DuckDB's CSV reader with its default null string). */
  emptyIsNull?: boolean;
  /**
   * Records the reader could not read as records (a CSV row it cannot split, an NDJSON line that is not a JSON
   * object): `sql` yields (line BIGINT, text VARCHAR, error VARCHAR), read after the source; `drop` are the temp
   * tables to drop afterwards. Each is quarantined alone instead of failing the file.
   */
  malformed?: {
    sql: string;
    drop: string[];
    /**
     * Records whose text the reader could not give as the file has it (not UTF-8: the reader shows '?' for the bad
     * bytes, and sometimes for the character after them): `lines` yields their reader line numbers (as `v`), and
     * ingest takes their text and exact bytes from `file` (csv-originals.ts, this dialect) and hashes those bytes.
     */
    exact?: { lines: string; file: string; dialect: CsvDialect };
  };
  /**
   * Every record's original text, for quarantine's `_source_record` (read only when something is quarantined):
   * `sql` yields __c360_ok (the stage key: the reader's row number `seq` or the caller's position `pos`) and
   * __c360_otext; a CSV's are found in the file by csv-originals.ts, keyed by stage rowid (`row`, input order).
   */
  originals?: { key: 'seq' | 'pos'; sql: string } | { key: 'row'; csv: CsvDialect & { file: string; rejects: string } };
}

let readers = 0;

export class UnreadableDropError extends C360Error {
  constructor(path: string, format: string, why: string) {
    super(`Cannot read ${format} drop '${path}': ${why}`);
    this.name = 'UnreadableDropError';
  }
}

/** read_csv buffer size for drops (DuckDB's default is much smaller; see fileSource). */
export const CSV_BUFFER_BYTES = 64 * 1024 * 1024;
/** Rows the CSV sniffer reads to find the dialect. */
const CSV_SNIFF_ROWS = 2048;
/**
 * The longest line the sniffer reads when its sample has a long one: DuckDB's default, 2 MB, made one longer line in
 * its sample fail the whole file ("CSV Error on Line: 1"). The reader, with its 64 MB buffers, reads such a record
 * like any other. Only then: a sniff with this limit reads 64 MB buffers and cost ~0.45 s CPU where the default
 * costs ~0.04 s (a 1M-row file; two sniffs per drop).
 */
const CSV_SNIFF_MAX_LINE = CSV_BUFFER_BYTES;
/** Lines shorter than this in the sniffer's sample are safe under its default limit (2 MB), with a margin. */
const CSV_SNIFF_SAFE_LINE = 1024 * 1024;

/**
 * Whether the sniffer's sample (the first CSV_SNIFF_ROWS lines, header included) may hold a line too long for its
 * default limit: a line of 1 MB or more in the first 8 MB, or a sample that does not end within them. Read in 64 KB
 * pieces and stopped as soon as the answer is known: a drop of ordinary lines costs one or a few pieces (2,048 lines
 * of ~100 bytes: 200 KB), not 8 MB.
 */
async function longLineInSample(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const piece = Buffer.alloc(64 * 1024);
    let lines = 0;
    let lineLength = 0;
    for (let at = 0; at < 8 * CSV_SNIFF_SAFE_LINE; ) {
      const { bytesRead } = await fh.read(piece, 0, piece.length, at);
      if (bytesRead === 0) return false; // the file ends within the sample
      let start = 0;
      for (;;) {
        const nl = piece.subarray(0, bytesRead).indexOf(0x0a, start);
        lineLength += (nl < 0 ? bytesRead : nl) - start;
        if (lineLength >= CSV_SNIFF_SAFE_LINE) return true;
        if (nl < 0) break;
        if (++lines > CSV_SNIFF_ROWS) return false;
        lineLength = 0;
        start = nl + 1;
      }
      at += bytesRead;
    }
    return true; // the sample does not end within 8 MB
  } finally {
    await fh.close();
  }
}

/**
 * SQL: the key list `keys` (json_keys of a JSON object) names each key once and none empty. The one rule for NDJSON
 * drops and stream bodies (badKey in src/streaming/decode.ts for parsed bodies): an object naming a key twice is
 * MALFORMED (DuckDB keeps the first value, JavaScript the last), and so is one naming the empty key (no column can
 * be named "": it failed the whole file with a parser error).
 */
export function keysWellFormedSql(keys: string): string {
  return `len(${keys}) = len(list_distinct(${keys})) AND NOT list_contains(${keys}, '')`;
}

const NESTED = /(STRUCT|MAP|UNION|\[\]|\[\d+\]|^JSON$)/;

/** VARCHAR projection of a described column: nested values become JSON text. */
function asVarchar(name: string, type: string): string {
  if (type === 'VARCHAR') return ident(name);
  if (NESTED.test(type)) return `CAST(to_json(${ident(name)}) AS VARCHAR)`;
  return `CAST(${ident(name)} AS VARCHAR)`;
}

async function describe(engine: Engine, sql: string): Promise<{ name: string; type: string }[]> {
  const rows = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

function firstLine(message: string): string {
  return message.split('\n').find((l) => l.trim() !== '')?.trim() ?? message;
}

/** The all-VARCHAR relation of one drop file. Errors name the file and the reason. */
export async function fileSource(engine: Engine, file: string, format: DropFormat): Promise<VarcharSource> {
  let size = 0;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new UnreadableDropError(file, format, 'not a regular file');
    size = s.size;
  } catch (e) {
    if (e instanceof UnreadableDropError) throw e;
    throw new UnreadableDropError(file, format, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  try {
    if (format === 'csv' && size === 0) {
      // An empty drop is zero records (the sniffer has nothing to sniff): DuckDB's own reading of it, one column.
      const reader = `read_csv(${lit(file)}, header = true, all_varchar = true)`;
      const cols = await describe(engine, `SELECT * FROM ${reader}`);
      return { sql: `SELECT ${cols.map((c) => ident(c.name)).join(', ')} FROM ${reader}`, columns: cols.map((c) => c.name), hasPosition: false, hasSeq: false };
    }
    if (format === 'csv') {
      // Sniff the dialect once and read with it fixed (auto_detect off): a second sniff inside the staging query
      // costs ~5% of Bronze time at 1M rows. sniff_csv's Prompt is DuckDB's own read_csv call for what it found.
      // The dialect shows in the first rows; 2,048 of them sniff in half the time of the default 20,480.
      // Sniffed ignoring malformed records: one ragged row in the sample must not decide the dialect (it made the
      // sniffer take the whole header as one column, and every record failed REQUIRED). Sniffed twice: with RFC 4180's
      // double quote, and free; the dialect finding more columns wins, the quoted one on a tie (left free, a stray
      // quote made the sniffer read every quoted field with its quotes as part of the value).
      // The call is rebuilt from the sniffer's fields, every value quoted: its Prompt splices the file name and the
      // header's column names into SQL unquoted (a file named o'brien.csv, or a crafted header, would break it).
      type Sniffed = { Delimiter: string; Quote: string; Escape: string; NewLineDelimiter: string; Comment: string; SkipRows: unknown; HasHeader: boolean; Columns: { name: string }[] };
      const sniff = (extra: string, long: boolean) =>
        engine.all<Sniffed>(
          `SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, Columns FROM sniff_csv(${lit(file)}, header = true, all_varchar = true, sample_size = ${CSV_SNIFF_ROWS}, ignore_errors = true${long ? `, max_line_size = ${CSV_SNIFF_MAX_LINE}` : ''}${extra})`,
        );
      const both = async (long: boolean) => [await sniff(`, quote = '"'`, long), await sniff('', long)] as const;
      const long = await longLineInSample(file);
      // The default limit failing anyway (a record spanning lines past it): sniffed again with the long one.
      const [quoted, free] = long ? await both(true) : await both(false).catch(() => both(true));
      const sniffed = (free[0]?.Columns.length ?? 0) > (quoted[0]?.Columns.length ?? 0) ? free : quoted;
      const d = sniffed[0];
      if (!d) throw new UnreadableDropError(file, format, 'the CSV sniffer found no dialect');
      const opt = (v: string) => lit(v === '(empty)' ? '' : v);
      const columnSpec = `{${d.Columns.map((c) => `${lit(c.name)}: 'VARCHAR'`).join(', ')}}`;
      const call = [
        `read_csv(${lit(file)}, auto_detect = false, delim = ${opt(d.Delimiter)}, quote = ${opt(d.Quote)}, escape = ${opt(d.Escape)}`,
        `new_line = ${opt(d.NewLineDelimiter)}, skip = ${Number(d.SkipRows)}, comment = ${opt(d.Comment)}, columns = ${columnSpec}`,
        `all_varchar = true, header = ${d.HasHeader ? 'true' : 'false'}`,
      ].join(', ');
      // Large read buffers: staging keeps input order (quarantine positions are row numbers), and DuckDB's ordered
      // insert merges its batches, which costs less with fewer, larger buffers (~20% of staging CPU at 1M rows).
      const n = ++readers;
      const rejects = { table: `__c360_rejects_${n}`, scan: `__c360_rejects_scan_${n}` };
      const reader = `${call}, buffer_size = ${CSV_BUFFER_BYTES}, store_rejects = true, rejects_table = ${lit(rejects.table)}, rejects_scan = ${lit(rejects.scan)})`;
      const columns = d.Columns.map((c) => c.name);
      // Unquoted and quoted ("") empty fields read as null (the call sets no null handling of its own).
      const emptyIsNull = true;
      const v = (x: string) => (x === '(empty)' ? '' : x);
      const dialect = { quote: v(d.Quote), escape: v(d.Escape), before: Number(d.SkipRows) + (d.HasHeader ? 1 : 0) };
      const malformed = {
        sql: `SELECT line, any_value(csv_line) AS text, string_agg(DISTINCT error_type || ': ' || error_message, '; ') AS error FROM ${rejects.table} GROUP BY line`,
        drop: [rejects.table, rejects.scan],
        exact: { lines: `SELECT DISTINCT line AS v FROM ${rejects.table} WHERE error_type = 'INVALID ENCODING'`, file, dialect },
      };
      const originals = { key: 'row' as const, csv: { file, rejects: rejects.table, ...dialect } };
      return { sql: `SELECT ${columns.map((c) => ident(c)).join(', ')} FROM ${reader}`, columns, hasPosition: false, hasSeq: false, emptyIsNull, malformed, originals };
    }
    if (format === 'parquet') {
      const cols = await describe(engine, `SELECT * FROM read_parquet(${lit(file)})`);
      const proj = cols.map((c) => `${asVarchar(c.name, c.type)} AS ${ident(c.name)}`);
      // Parquet knows each row's number, so staging need not preserve order.
      proj.push('file_row_number AS __c360_seq');
      // A Parquet record's original is its typed values: as a JSON object (numbers, nested values and text as typed).
      const object = `CAST(json_object(${cols.map((c) => `${lit(c.name)}, ${ident(c.name)}`).join(', ')}) AS VARCHAR)`;
      const originals = { sql: `SELECT file_row_number AS __c360_ok, ${object} AS __c360_otext FROM read_parquet(${lit(file)}, file_row_number = true)`, key: 'seq' as const };
      return { sql: `SELECT ${proj.join(', ')} FROM read_parquet(${lit(file)}, file_row_number = true)`, columns: cols.map((c) => c.name), hasPosition: false, hasSeq: true, originals };
    }
    // NDJSON: read as numbered lines (a line that is not a JSON object is quarantined alone, with its text and line
    // number, instead of failing the file), then the keys over the whole file (records may differ), first
    // appearance first. A control character cannot occur unescaped in JSON, so \x01 as the "delimiter" keeps each
    // line one field. The line ending is taken from the file's start (\r\n or \n).
    const head = await readHead(file, 65536);
    const newline = head.includes('\r\n') ? '\\r\\n' : '\\n';
    const n = ++readers;
    const lines = `__c360_lines_${n}`;
    const rejects = { table: `__c360_ndjson_rejects_${n}`, scan: `__c360_ndjson_rejects_scan_${n}` };
    const read = (keepRejects: boolean) =>
      `read_csv(${lit(file)}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = ${lit('\x01')}, quote = '', escape = '',
         new_line = ${lit(newline)}, strict_mode = false, buffer_size = ${CSV_BUFFER_BYTES}` +
      (keepRejects ? `, store_rejects = true, rejects_table = ${lit(rejects.table)}, rejects_scan = ${lit(rejects.scan)})` : ')');
    // n: the line number; bad: the reader's reason for a line it could not read (then never loaded).
    const linesSql = (numbered: string) =>
      `CREATE TEMP TABLE ${lines} AS SELECT n, line, ok AND ${keysWellFormedSql('ks')} AS ok, ok AS object, list_contains(ks, '') AS empty_key, bad
       FROM (SELECT n, line, ok, bad, json_keys(CASE WHEN ok THEN line END) AS ks
       FROM (SELECT n, line, bad IS NULL AND coalesce(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' END, false) AS ok, bad FROM (${numbered})))`;
    let exact: { lines: string; file: string; dialect: CsvDialect } | undefined;
    try {
      await engine.run(linesSql(`SELECT row_number() OVER () AS n, line, NULL::VARCHAR AS bad FROM ${read(false)}`));
    } catch {
      // A line the reader cannot read (not UTF-8: "CSV Error on Line: 1" failed the whole file) is kept aside with
      // its reason, and the others keep their line numbers: the k-th line read is line k plus the rejected lines
      // before it (rejected line r_i, i-th in order, precedes read line k when r_i - i < k).
      await engine.run(`DROP TABLE IF EXISTS ${lines}`);
      await engine.run(`CREATE TEMP TABLE ${lines}_read AS SELECT row_number() OVER () AS k, line FROM ${read(true)}`);
      await engine.run(
        linesSql(`SELECT k + (SELECT count(*) FROM (SELECT line AS r, row_number() OVER (ORDER BY line) AS i FROM ${rejects.table}) WHERE r - i < k) AS n, line, NULL::VARCHAR AS bad FROM ${lines}_read
                  UNION ALL SELECT CAST(line AS BIGINT) AS n, any_value(csv_line) AS line, string_agg(DISTINCT error_type || ': ' || error_message, '; ') AS bad FROM ${rejects.table} GROUP BY line`),
      );
      await engine.run(`DROP TABLE ${lines}_read`);
      exact = { lines: `SELECT n AS v FROM ${lines} WHERE bad IS NOT NULL`, file, dialect: { quote: '', escape: '', before: 0 } };
    }
    const keys = await engine.all<{ k: string }>(`SELECT k FROM (SELECT unnest(json_keys(CASE WHEN ok THEN line END)) AS k, n FROM ${lines} WHERE ok) GROUP BY k ORDER BY min(n)`);
    const columns = keys.map((r) => r.k);
    if (columns.length === 0) {
      await engine.run([lines, rejects.table, rejects.scan].map((t) => `DROP TABLE IF EXISTS ${t}`).join('; '));
      throw new UnreadableDropError(file, format, 'no JSON object records (expected one object per line)');
    }
    const malformed = {
      // An object naming a key twice is malformed too: readers disagree on which value counts (DuckDB takes the
      // first, JavaScript the last), so loading either would silently drop the other.
      sql: `SELECT n AS line, line AS text, CASE WHEN bad IS NOT NULL THEN bad WHEN empty_key THEN 'EMPTY KEY: the object names the key ""' WHEN object THEN 'DUPLICATE KEY: the object names a key more than once' WHEN json_valid(line) THEN 'NOT AN OBJECT: a JSON ' || lower(json_type(CASE WHEN json_valid(line) THEN line END)) ELSE 'NOT JSON: the line does not parse' END AS error
            FROM ${lines} WHERE NOT ok AND (bad IS NOT NULL OR trim(coalesce(line, '')) <> '')`,
      drop: [lines, rejects.table, rejects.scan],
      ...(exact ? { exact } : {}),
    };
    // The line number is the record's position (quarantine _source_position).
    const proj = [...columns.map((k) => `line ->> ${lit(k)} AS ${ident(k)}`), 'n - 1 AS __c360_seq'];
    const originals = { sql: `SELECT n - 1 AS __c360_ok, line AS __c360_otext FROM ${lines}`, key: 'seq' as const };
    return { sql: `SELECT ${proj.join(', ')} FROM ${lines} WHERE ok`, columns, hasPosition: false, hasSeq: true, malformed, originals };
  } catch (e) {
    if (e instanceof C360Error) throw e;
    throw new UnreadableDropError(file, format, firstLine((e as Error).message));
  }
}

/**
 * The all-VARCHAR relation of a query (the streaming path: e.g. a micro-batch of Event Hubs bodies). Non-VARCHAR
 * columns are cast; `positionColumn` (if given) becomes `_source_position` in quarantine and is not a record field.
 */
export async function sqlSource(engine: Engine, sql: string, positionColumn?: string, varcharColumns?: readonly string[]): Promise<VarcharSource> {
  // Callers that know their columns are all VARCHAR skip the DESCRIBE (a query of its own per micro-batch).
  const cols = varcharColumns ? varcharColumns.map((name) => ({ name, type: 'VARCHAR' })) : await describe(engine, `SELECT * FROM (${sql})`);
  if (positionColumn !== undefined && !cols.some((c) => c.name === positionColumn)) {
    throw new UsageError(`Position column '${positionColumn}' is not in the source query (columns: ${cols.map((c) => c.name).join(', ')})`);
  }
  const fields = cols.filter((c) => c.name !== positionColumn);
  const proj = fields.map((c) => `${asVarchar(c.name, c.type)} AS ${ident(c.name)}`);
  if (positionColumn !== undefined) proj.push(`CAST(${ident(positionColumn)} AS VARCHAR) AS __c360_pos`);
  return { sql: `SELECT ${proj.join(', ')} FROM (${sql})`, columns: fields.map((c) => c.name), hasPosition: positionColumn !== undefined, hasSeq: false };
}

/** The first bytes of a file, as text (to tell its line ending). */
async function readHead(file: string, bytes: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}
