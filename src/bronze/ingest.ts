// The Bronze ingestion core: one relation (a drop file or a query) of one table -> validated Bronze Parquet and
// quarantine Parquet with reasons, each written to a temp file and committed with lake.putFile. Used by
// `c360 ingest`, the bronze-ingest job and the Event Hubs consumer alike.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRONZE_METADATA_COLUMNS, REASON, type TableContract } from '../../schemas/contract.ts';
import { getContract } from '../../schemas/index.ts';
import { ident, lit, litList, unordered, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { C360Error, TransientError } from '../runtime/errors.ts';
import { faultPoint } from '../runtime/fault.ts';
import { owned } from '../runtime/tmp.ts';
import { bindColumns, STAGE, stageSql, valueSql, type Binding } from '../contracts/validation-sql.ts';
import { applySuppression } from '../privacy/suppression.ts';
import { addToIndex, heldHashes, type HeldHashes } from './dedupe-index.ts';
import { bronzeFile, quarantineFile, safeName } from './paths.ts';
import { checkShape, type Shape } from './shape.ts';
import { csvOriginals, sameRecord, type CsvDialect } from './csv-originals.ts';
import { fileSource, formatOf, sqlSource, type DropFormat, type VarcharSource } from './source.ts';

export type IngestSource =
  | { file: string; format?: DropFormat }
  /**
   * A SELECT over anything DuckDB can read; `positionColumn` becomes `_source_position` (e.g. 'partition/offset').
   * `varcharColumns`: the SELECT's column names (position included) when the caller knows they are all VARCHAR.
   * `originalsSql`: (__c360_ok = the position, __c360_otext = the record's original text), for quarantine.
   */
  | { sql: string; positionColumn?: string; varcharColumns?: readonly string[]; originalsSql?: string };

export interface IngestOptions {
  table: string;
  source: IngestSource;
  /** Stamped on every row as _load_id. */
  loadId: string;
  /** Partition date YYYY-MM-DD (ingest_date=...). */
  ingestDate: string;
  /** Stamped as _source_file (default: the file path, or 'sql'). */
  sourceFile?: string;
  /** Fallback for _source_system when a record has no SOURCE_SYSTEM field (default: the contract's). */
  sourceSystem?: string;
  /** Deterministic name of the output files (default: derived from load id, source and content). */
  outputName?: string;
  /** Keep exact duplicates once within the input and against what the table already holds (default true). */
  dedupe?: boolean;
  /** Where temp files are written before the commit (default: the OS temp folder). */
  tmpDir?: string;
  /** Stamped as _ingested_at (default: now). */
  ingestedAt?: Date;
}

export interface IngestResult {
  table: string;
  sourceFile: string;
  /** Records read. */
  inputRows: number;
  /** Distinct records within the input. */
  distinctRows: number;
  /** Distinct records already in Bronze or quarantine from earlier loads (not written again). */
  alreadyIngested: number;
  /** Records written to Bronze / quarantine by this call: distinctRows = bronzeRows + quarantineRows + alreadyIngested. */
  bronzeRows: number;
  quarantineRows: number;
  /** inputRows - bronzeRows - quarantineRows: exact duplicates within the input or of earlier loads. */
  duplicatesDropped: number;
  /** Quarantine reason counts by `COLUMN:CODE` and by code. */
  reasons: Record<string, number>;
  reasonCodes: Record<string, number>;
  /** Received columns not in the contract (kept in Bronze) and contract columns the input lacks. */
  extraColumns: string[];
  missingColumns: string[];
  /** Lake paths committed (Bronze, then quarantine); empty when nothing was new. */
  outputs: string[];
  outputName?: string;
  /** Drop files: how many of the contract's columns the file has. */
  shape?: Shape;
  /** Whether quarantine got each record's original text (false: a CSV the line reading could not align; undefined: nothing quarantined). */
  originals?: boolean;
}

const META = new Set([...BRONZE_METADATA_COLUMNS.map((m) => m.name.toUpperCase()), '_REASONS', '_SOURCE_POSITION', '_SOURCE_RECORD', '_SOURCE_ERROR']);
/** Stage columns of malformed records: source line, original text, the reader's reason, exact bytes (not UTF-8). */
const MALFORMED = { line: '__c360_mline', text: '__c360_mtext', error: '__c360_merror', bytes: '__c360_mbytes' } as const;
/** Suffix that keeps the temp tables of concurrent calls on one engine apart. */
let calls = 0;

/** Output names for received columns that would collide (case-insensitively) with contract or metadata columns. */
function outputNames(names: readonly string[], taken: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of names) {
    let name = n;
    while (taken.has(name.toUpperCase())) name = `${name}_received`;
    taken.add(name.toUpperCase());
    out.set(n, name);
  }
  return out;
}

function count(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

/**
 * What tells a drop file's content apart without reading it again: a writer cannot change the file and leave all of
 * these as they were (the change time moves on every write and cannot be set back, unlike the modification time;
 * a file replaced by a rename has another inode).
 */
async function fileVersion(file: string): Promise<{ size: bigint; key: string }> {
  const s = await stat(file, { bigint: true });
  return { size: s.size, key: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` };
}

export async function ingestRelation(engine: Engine, lake: Lake, options: IngestOptions): Promise<IngestResult> {
  const contract = getContract(options.table);
  const src = options.source;
  // A drop file still being written (or rewritten) would load a mix of versions: its version before the first read
  // must still hold after the last one (staging, then the originals of quarantined records), before any commit.
  const before = 'file' in src ? await fileVersion(src.file).catch(() => undefined) : undefined; // none: fileSource says why
  const unchanged = async (): Promise<void> => {
    if (!before || !('file' in src)) return;
    const after = await fileVersion(src.file).catch(() => undefined);
    if (after?.key !== before.key) {
      throw new TransientError(
        `Drop '${options.sourceFile ?? src.file}' changed while it was being read (${after ? `size ${before.size} -> ${after.size} bytes, or its modification time` : 'it is gone'}): nothing of it was committed. Run again once whatever writes it has finished; drops should be written elsewhere and moved in when complete.`,
      );
    }
  };
  const source: VarcharSource = 'file' in src ? await fileSource(engine, src.file, formatOf(src.file, src.format)) : await sqlSource(engine, src.sql, src.positionColumn, src.varcharColumns);
  if ('sql' in src && src.originalsSql && src.positionColumn !== undefined) source.originals = { sql: src.originalsSql, key: 'pos' };
  const sourceFile = options.sourceFile ?? ('file' in src ? src.file : 'sql');
  const binding = bindColumns(contract, source.columns);
  // Drop files are checked for their table before any row is read (the stream routes each event by its table).
  // An empty file has no header to check (it is zero records).
  const shape = before && before.size > 0 ? checkShape(contract, source.columns, sourceFile) : undefined;
  const n = ++calls;
  const T = { stage: `__c360_stage_${n}`, firsts: `__c360_firsts_${n}`, held: `__c360_held_${n}`, skip: `__c360_skip_${n}`, orig: `__c360_orig_${n}` };
  if (options.tmpDir) await mkdir(options.tmpDir, { recursive: true });
  const work = await mkdtemp(join(options.tmpDir ?? tmpdir(), owned('bronze-')));
  try {
    return { ...(await runIngest(engine, lake, contract, options, source, sourceFile, binding, T, work, unchanged)), ...(shape ? { shape } : {}) };
  } finally {
    const temps = [...Object.values(T), ...(source.malformed?.drop ?? [])];
    await engine.run(temps.map((t) => `DROP TABLE IF EXISTS ${t}`).join(';\n')).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

async function runIngest(
  engine: Engine,
  lake: Lake,
  contract: TableContract,
  options: IngestOptions,
  source: VarcharSource,
  sourceFile: string,
  binding: Binding,
  T: { stage: string; firsts: string; held: string; skip: string; orig: string },
  work: string,
  unchanged: () => Promise<void>,
): Promise<IngestResult> {
  const dedupe = options.dedupe ?? true;
  // 1. Stage the input once (CSV parsing is the expensive part), in input order (rowid) unless the reader numbers
  //    rows itself: Bronze values, the reasons string that routes each record, the record hash, and raw fields for
  //    invalid records only.
  try {
    const passthrough = [...(source.hasPosition ? [STAGE.pos] : []), ...(source.hasSeq ? [STAGE.seq] : [])];
    const create = `CREATE TEMP TABLE ${T.stage} AS ${stageSql(binding, source.columns, source.sql, { passthrough, emptyIsNull: source.emptyIsNull })}`;
    if (source.hasSeq) await unordered(engine, create);
    else await engine.run(create);
  } catch (e) {
    throw new C360Error(`Cannot read ${contract.name} input '${sourceFile}': ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  // Records the reader could not read (CSV rows it cannot split, NDJSON lines that are not objects) join the stage as quarantine records of their own: their text, line and
  // the reader's reason. Their hash is over the text, so a re-run finds them already ingested.
  if (source.malformed) {
    // The reader's tables stay until the end (the originals read its rejects); ingestRelation drops them.
    const { sql } = source.malformed;
    await engine.run(
      `ALTER TABLE ${T.stage} ADD COLUMN ${MALFORMED.line} VARCHAR; ALTER TABLE ${T.stage} ADD COLUMN ${MALFORMED.text} VARCHAR; ALTER TABLE ${T.stage} ADD COLUMN ${MALFORMED.error} VARCHAR;
       ALTER TABLE ${T.stage} ADD COLUMN ${MALFORMED.bytes} BLOB;
       INSERT INTO ${T.stage} (${STAGE.hash}, ${STAGE.reasons}, ${MALFORMED.line}, ${MALFORMED.text}, ${MALFORMED.error}${source.hasSeq ? `, ${STAGE.seq}` : ''})
       SELECT md5(${lit(`${REASON.MALFORMED}\u001f`)} || text), ${lit(`_RECORD:${REASON.MALFORMED}`)}, 'line=' || CAST(line AS VARCHAR), text, error${source.hasSeq ? ', line - 1' : ''}
       FROM (${sql})
       ORDER BY line`,
    );
    if (source.malformed.exact) await exactMalformed(engine, T.stage, source.malformed.exact, work);
  }
  // 2. Records to skip: later copies of a hash within the input, and every copy of a hash the table already holds.
  //    They are deleted from the stage (the others keep their rowids), so the writes need no filter. Only hashes
  //    with copies are kept from the grouping (a few, not one row per record), and the held hashes are only looked
  //    up when the table has files.
  const heldSources: HeldHashes = await heldHashes(lake, contract);
  const existing = dedupe ? heldSources.localFiles : [];
  const H = STAGE.hash;
  // One round trip each for the dedupe tables and for the counts: a streaming micro-batch runs this per batch, with
  // the event loop busy receiving, and every await costs a turn of it.
  if (dedupe) {
    const first = source.hasSeq ? `arg_min(rowid, ${STAGE.seq})` : 'min(rowid)';
    const held =
      existing.length === 0
        ? `SELECT NULL::VARCHAR AS ${H} WHERE false`
        : `SELECT DISTINCT s.${H} FROM ${T.stage} s SEMI JOIN (SELECT _record_hash AS h FROM read_parquet(${litList(existing)}, union_by_name = true)) e ON s.${H} = e.h`;
    await engine.run(
      // Grouping 64-bit hashes of the hashes first is cheaper than grouping 32-byte strings; only the few records
      // whose 64-bit hash repeats are grouped exactly.
      `CREATE TEMP TABLE ${T.firsts} AS
       WITH repeats AS (SELECT hash(${H}) AS k FROM ${T.stage} GROUP BY k HAVING count(*) > 1)
       SELECT ${H}, ${first} AS first_row, count(*) AS copies FROM ${T.stage} WHERE hash(${H}) IN (SELECT k FROM repeats) GROUP BY ${H} HAVING count(*) > 1;
       CREATE TEMP TABLE ${T.held} AS ${held};
       CREATE TEMP TABLE ${T.skip} AS
       SELECT s.rowid AS skip_row FROM ${T.stage} s SEMI JOIN ${T.held} h ON s.${H} = h.${H}
       UNION SELECT s.rowid FROM ${T.stage} s JOIN ${T.firsts} f ON s.${H} = f.${H} WHERE s.rowid <> f.first_row;
       DELETE FROM ${T.stage} WHERE rowid IN (SELECT skip_row FROM ${T.skip})`,
    );
  } else {
    await engine.run(
      `CREATE TEMP TABLE ${T.firsts} AS SELECT NULL::VARCHAR AS ${H}, 0::BIGINT AS copies WHERE false;
       CREATE TEMP TABLE ${T.held} AS SELECT NULL::VARCHAR AS ${H} WHERE false;
       CREATE TEMP TABLE ${T.skip} AS SELECT NULL::BIGINT AS skip_row WHERE false`,
    );
  }
  // 2b. Records of erased people (the suppression list) go to quarantine as SUPPRESSED, without their fields.
  await applySuppression(engine, lake, T.stage, binding, source.columns);
  // 3. What stays in the stage is new: Bronze when the reasons string is empty, quarantine otherwise. Distinct
  //    records = records - the extra copies of each hash.
  const R = STAGE.reasons;
  const counts = (await engine.all<Record<string, unknown>>(
    `SELECT (SELECT coalesce(sum(copies - 1), 0) FROM ${T.firsts}) AS extra_copies, (SELECT count(*) FROM ${T.held}) AS held,
            (SELECT count(*) FROM ${T.skip}) AS skipped, k.bronze, k.quarantine
     FROM (SELECT count(*) FILTER (WHERE ${R} = '') AS bronze, count(*) FILTER (WHERE ${R} <> '') AS quarantine FROM ${T.stage}) k`,
  ))[0]!;
  const skipped = count(counts.skipped);
  const bronzeRows = count(counts.bronze);
  const quarantineRows = count(counts.quarantine);
  const fresh = bronzeRows + quarantineRows;
  const inputRows = fresh + skipped;
  const distinctRows = dedupe ? inputRows - count(counts.extra_copies) : inputRows;

  const result: IngestResult = {
    table: contract.name,
    sourceFile,
    inputRows,
    distinctRows,
    alreadyIngested: count(counts.held),
    bronzeRows,
    quarantineRows,
    duplicatesDropped: inputRows - bronzeRows - quarantineRows,
    reasons: {},
    reasonCodes: {},
    extraColumns: binding.extras,
    missingColumns: binding.bound.filter((b) => b.received === undefined).map((b) => b.column.name),
    outputs: [],
  };
  if (quarantineRows > 0) {
    const rows = await engine.all<{ r: string; n: unknown }>(
      `SELECT r, count(*) AS n FROM (SELECT unnest(string_split(${R}, ',')) AS r FROM ${T.stage} WHERE ${R} <> '') GROUP BY r ORDER BY r`,
    );
    for (const { r, n } of rows) {
      result.reasons[r] = count(n);
      const code = r.slice(r.lastIndexOf(':') + 1);
      result.reasonCodes[code] = (result.reasonCodes[code] ?? 0) + count(n);
    }
  }
  if (fresh === 0) {
    // "Nothing new" is only true of the version that was read.
    await unchanged();
    return result;
  }

  // 4. Name the outputs: deterministic for the same load, source and content.
  const name = options.outputName ?? (await defaultOutputName(engine, `SELECT ${STAGE.hash} FROM ${T.stage}`, options.loadId, sourceFile));
  result.outputName = name;
  const ingestedAt = (options.ingestedAt ?? new Date()).toISOString();
  const sourceSystemIdx = binding.extras.findIndex((e) => e.trim().toUpperCase() === 'SOURCE_SYSTEM');
  const system = options.sourceSystem ?? contract.sourceSystem;
  const meta = [
    `${constantText(options.loadId)} AS _load_id`,
    `CAST(${lit(ingestedAt.replace('T', ' ').replace('Z', ''))} AS TIMESTAMP) AS _ingested_at`,
    `${sourceSystemIdx >= 0 ? `coalesce(${STAGE.extra(sourceSystemIdx)}, ${lit(system)})` : constantText(system)} AS _source_system`,
    `${constantText(sourceFile)} AS _source_file`,
    `${STAGE.hash} AS _record_hash`,
    `CAST(${contract.version} AS INTEGER) AS _schema_version`,
  ];
  const targets = {
    bronze: bronzeFile(contract, options.ingestDate, name),
    quarantine: quarantineFile(contract, options.ingestDate, name),
  };
  // Both files are written first and committed after the source's last read (the originals read the file again).
  const written: { tmp: string; target: string }[] = [];
  const copy = async (select: string, target: string, file: string, ordered = false) => {
    // Files are never changed once written. A clash means the name was used for other records (a deterministic
    // outputName reused); after a crash between commits the records already committed are not new, so they
    // never reach this point again.
    if (await lake.exists(target)) throw new C360Error(`Refusing to overwrite ${target}: output name '${name}' is already used`);
    const tmp = join(work, file);
    // Only quarantine needs input order (positions); unordered writes are faster.
    const sql = `COPY (${select}) TO ${lit(tmp)} (FORMAT parquet)`;
    if (ordered) await engine.run(sql);
    else await unordered(engine, sql);
    written.push({ tmp, target });
  };
  if (bronzeRows > 0) {
    const taken = new Set([...contract.columns.map((c) => c.name.toUpperCase()), ...META]);
    const extraNames = outputNames(binding.extras, taken);
    const cols = [
      ...binding.bound.map((b, i) => `${STAGE.bronze(i)} AS ${ident(b.column.name)}`),
      ...binding.extras.map((e, j) => `${STAGE.extra(j)} AS ${ident(extraNames.get(e)!)}`),
      ...meta,
    ];
    await copy(`SELECT ${cols.join(', ')} FROM ${T.stage} WHERE ${R} = ''`, targets.bronze, 'bronze.parquet');
  }
  if (quarantineRows > 0) {
    const received = outputNames(binding.bound.flatMap((b) => (b.received === undefined ? [] : [b.received])).concat(binding.extras), new Set(META));
    const seq = source.hasSeq ? `s.${STAGE.seq}` : 's.rowid';
    const o = await originalsOf(engine, source, T, result.reasons[`_RECORD:${REASON.MALFORMED}`] ?? 0, inputRows, work);
    result.originals = o.matched;
    // CSV: a malformed record's line and text as the file has them, when the reader's line names the same record.
    const byLine = o.byLine && !!source.malformed;
    const fileLine = byLine ? 'm.__c360_ofirst' : 'NULL';
    const malformedPosition = source.malformed ? `'line=' || CAST(${fileLine} AS VARCHAR), s.${MALFORMED.line}, ` : '';
    const recordNumber = o.byLine ? 'CAST(r.__c360_orec AS VARCHAR), ' : '';
    const position = `${malformedPosition}${source.hasPosition ? `s.${STAGE.pos}` : 'NULL'}, ${recordNumber}CAST(${seq} + 1 AS VARCHAR)`;
    const malformedText = source.malformed ? `${byLine ? `CASE WHEN ${fileLine} IS NOT NULL THEN m.__c360_otext END, ` : ''}s.${MALFORMED.text}, ` : '';
    const cols = [
      ...source.columns.map((c, k) => `s.${STAGE.raw}[${k + 1}] AS ${ident(received.get(c)!)}`),
      `CAST(string_split(s.${R}, ',') AS VARCHAR[]) AS _reasons`,
      `coalesce(${position}) AS _source_position`,
      // The record as received, for every quarantined record; not for a suppressed one (its fields are blanked).
      `CASE WHEN s.${R} LIKE '%:SUPPRESSED%' THEN NULL ELSE coalesce(${malformedText}r.__c360_otext) END AS _source_record`,
      ...(source.malformed ? [`s.${MALFORMED.error} AS _source_error`] : []),
      // The exact bytes of a record that is not valid UTF-8 (its _source_record shows U+FFFD for them).
      ...(o.byLine || source.malformed
        ? [`CASE WHEN s.${R} LIKE '%:SUPPRESSED%' THEN NULL ELSE coalesce(${[...(byLine ? ['m.__c360_obytes'] : []), ...(o.byLine ? ['r.__c360_obytes'] : []), ...(source.malformed ? [`s.${MALFORMED.bytes}`] : [])].join(', ')}) END AS _source_bytes`]
        : []),
      ...meta,
    ];
    const key = source.originals?.key === 'seq' ? `s.${STAGE.seq}` : source.originals?.key === 'pos' ? `s.${STAGE.pos}` : 's.rowid';
    const joins = o.table
      ? ` LEFT JOIN ${o.table} r ON r.__c360_ok = ${key}` +
        (byLine ? ` LEFT JOIN ${o.table} m ON m.__c360_oline = TRY_CAST(substr(s.${MALFORMED.line}, 6) AS BIGINT)` : '')
      : ` LEFT JOIN (SELECT NULL::VARCHAR AS __c360_otext, NULL::BIGINT AS __c360_orec) r ON false`;
    await copy(`SELECT ${cols.join(', ')} FROM ${T.stage} s${joins} WHERE s.${R} <> '' ORDER BY ${seq}`, targets.quarantine, 'quarantine.parquet', true);
  }
  await unchanged();
  for (const { tmp, target } of written) {
    faultPoint('bronze-before-commit');
    await lake.putFile(tmp, target);
    result.outputs.push(target);
  }
  // 5. The new hashes into the table's dedupe index, after the data (a crash before this leaves uncovered files,
  //    which the next lookup reads directly).
  // The Bronze file's event-date range goes into the state with the index (the default as-of date reads it).
  const dates: Record<string, [string, string]> = {};
  const eventIdx = binding.bound.findIndex((b) => b.column.name === contract.eventTime);
  if (bronzeRows > 0 && eventIdx >= 0) {
    const [r] = await engine.all<{ lo: string | null; hi: string | null }>(
      `SELECT CAST(min(CAST(${STAGE.bronze(eventIdx)} AS DATE)) AS VARCHAR) AS lo, CAST(max(CAST(${STAGE.bronze(eventIdx)} AS DATE)) AS VARCHAR) AS hi FROM ${T.stage} WHERE ${R} = ''`,
    );
    if (r?.lo && r.hi) dates[targets.bronze] = [r.lo, r.hi];
  }
  await addToIndex(engine, lake, contract, { held: heldSources, newHashesSql: `SELECT ${STAGE.hash} AS _record_hash FROM ${T.stage}`, distinct: dedupe, outputs: result.outputs, name, tmpDir: work, dates });
  return result;
}

/**
 * Malformed records whose text the reader could not give as the file has it (not UTF-8: it shows '?' for the bad bytes
 * and sometimes for the character after them): their text as the file has it (U+FFFD for bytes that are not UTF-8),
 * their exact bytes, and a hash over those bytes. Hashed over the reader's text, two records differing only in such
 * bytes (Jos\xe9 and Jos\xe8 in a Latin-1 file) were one record, and the second was dropped as its duplicate.
 */
async function exactMalformed(engine: Engine, stage: string, exact: { lines: string; file: string; dialect: CsvDialect }, work: string): Promise<void> {
  const lines = new Set((await engine.all<{ v: unknown }>(exact.lines)).map((r) => Number(r.v)));
  if (lines.size === 0) return;
  const found = await csvOriginals(exact.file, exact.dialect, { rows: new Set(), lines, rejected: new Set() });
  if (found.records.length === 0) return;
  const file = join(work, 'exact.ndjson');
  await writeFile(file, found.records.map((r) => JSON.stringify({ l: r.line, t: r.text, b: r.bytes?.toString('hex') ?? null })).join('\n'));
  await engine.run(
    `UPDATE ${stage} SET ${MALFORMED.text} = x.t, ${MALFORMED.bytes} = unhex(x.b),
       ${STAGE.hash} = md5(${lit(`${REASON.MALFORMED}\u001f`)} || CASE WHEN x.b IS NULL THEN x.t ELSE 'bytes:' || x.b END)
     FROM read_json(${lit(file)}, format = 'newline_delimited', columns = {l: 'BIGINT', t: 'VARCHAR', b: 'VARCHAR'}) x
     WHERE ${MALFORMED.line} = 'line=' || CAST(x.l AS VARCHAR)`,
  );
}

/**
 * The originals of the quarantined records (source.originals) as a temp table, or none. Rows keyed by the stage
 * rowid (CSV) are used only when the records the originals found match the rows the reader gave one for one;
 * otherwise the quarantine keeps the received fields and reader positions (matched: false).
 */
async function originalsOf(
  engine: Engine,
  source: VarcharSource,
  T: { stage: string; orig: string },
  malformed: number,
  inputRows: number,
  work: string,
): Promise<{ table?: string; byLine: boolean; matched?: boolean }> {
  const o = source.originals;
  if (!o) return { byLine: false };
  const R = STAGE.reasons;
  if (o.key !== 'row') {
    const key = o.key === 'seq' ? STAGE.seq : STAGE.pos;
    await engine.run(`CREATE TEMP TABLE ${T.orig} AS SELECT * FROM (${o.sql}) o WHERE o.__c360_ok IN (SELECT ${key} FROM ${T.stage} WHERE ${R} <> '')`);
    return { table: T.orig, byLine: false, matched: true };
  }
  // CSV: the quarantined rows (stage rowids) and malformed records (reader lines), found in the file.
  const ints = async (sql: string) => new Set((await engine.all<{ v: unknown }>(sql)).map((r) => Number(r.v)));
  const m = source.malformed ? MALFORMED.line : 'NULL';
  const rows = await ints(`SELECT rowid AS v FROM ${T.stage} WHERE ${R} <> '' AND ${m} IS NULL`);
  const lines = source.malformed ? await ints(`SELECT TRY_CAST(substr(${m}, 6) AS BIGINT) AS v FROM ${T.stage} WHERE ${m} IS NOT NULL`) : new Set<number>();
  const rejected = await ints(`SELECT DISTINCT line AS v FROM ${o.csv.rejects}`);
  const found = await csvOriginals(o.csv.file, o.csv, { rows, lines, rejected }, source.columns.length >= 2 ? inputRows - malformed : undefined);
  // Every record the reader returned must be one found, in the same order: the same count, or none is used.
  const matched = found.returned === inputRows - malformed;
  // A rejected record is taken from the file only when the reader's text of it agrees (the line numbers line up).
  const readerText = new Map<number, string>();
  if (source.malformed && lines.size > 0) {
    for (const r of await engine.all<{ l: unknown; t: string | null }>(`SELECT TRY_CAST(substr(${m}, 6) AS BIGINT) AS l, ${MALFORMED.text} AS t FROM ${T.stage} WHERE ${m} IS NOT NULL`)) {
      readerText.set(Number(r.l), r.t ?? '');
    }
  }
  const kept = found.records.filter((r) => (r.k !== null ? matched : sameRecord(readerText.get(r.line) ?? '', r.text)));
  const file = join(work, 'originals.ndjson');
  await writeFile(file, kept.map((r) => JSON.stringify({ ok: r.k, t: r.text, rec: r.recno, line: r.line, first: r.firstLine, b: r.bytes?.toString('hex') ?? null })).join('\n'));
  await engine.run(
    `CREATE TEMP TABLE ${T.orig} (__c360_ok BIGINT, __c360_otext VARCHAR, __c360_orec BIGINT, __c360_oline BIGINT, __c360_ofirst BIGINT, __c360_obytes BLOB);
     ${kept.length > 0 ? `INSERT INTO ${T.orig} SELECT ok, t, rec, line, first, unhex(b) FROM read_json(${lit(file)}, format = 'newline_delimited', columns = {ok: 'BIGINT', t: 'VARCHAR', rec: 'BIGINT', line: 'BIGINT', first: 'BIGINT', b: 'VARCHAR'})` : ''}`,
  );
  return { table: T.orig, byLine: true, matched };
}

/**
 * A text column with the same value on every row, as a one-value ENUM. Parquet gets the same dictionary-encoded text
 * column either way; from an ENUM the writer takes the dictionary codes as they are instead of hashing every row's
 * string (about a tenth of the Bronze write at 1M rows for the three constant columns).
 */
function constantText(value: string): string {
  return `CAST(${lit(value)} AS ENUM(${lit(value)}))`;
}

async function defaultOutputName(engine: Engine, hashesSql: string, loadId: string, sourceFile: string): Promise<string> {
  // Order-independent digest of the new records' hashes: cheap, and the same content gives the same name.
  const digest = await engine.scalar<unknown>(`SELECT CAST(bit_xor(hash(${STAGE.hash})) AS VARCHAR) FROM (${hashesSql})`);
  const h = createHash('md5').update(`${loadId}\n${sourceFile}\n${String(digest)}`).digest('hex').slice(0, 12);
  return `${safeName(loadId)}-${h}`;
}

