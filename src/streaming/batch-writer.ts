// Writes one partition's micro-batch to the lake: records grouped by (table, ingest date) go through the shared
// Bronze ingestion core (same contract validation, quarantine reasons and `_record_hash` dedupe as batch drops);
// poison events (not JSON, unknown table, oversized) go to quarantine/customer360/_events with their position.
import { closeSync, createWriteStream, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ingestRelation } from '../bronze/ingest.ts';
import { keysWellFormedSql } from '../bronze/source.ts';
import { lit, type Engine } from '../engine/duckdb.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { safeSegment } from './checkpoint.ts';
import { REASON } from '../../schemas/index.ts';
import { badKey, parseObject, type DecodedEvent, type EventPosition, type PoisonEvent } from './decode.ts';

/** Folder for events that cannot be attributed to a table's record (quarantine layout, one dataset). */
export const POISON_DIR = 'quarantine/customer360/_events';

interface SpoolGroup {
  table: string;
  date: string;
  file: string;
  fd: number;
  /** Keys of the parsed records, first appearance first (unparsed records' keys are found at commit). */
  keys: Set<string>;
  pending: Buffer[];
  pendingBytes: number;
  rows: number;
  /** Records spooled unparsed (decode's deferParse): DuckDB checks them at commit. */
  unparsed: number;
  /** Enqueued time (ms) of each line, for the poison record of a line that turns out not to be JSON. */
  times: number[];
  /**
   * Bodies the spool line does not hold as received (line breaks, blanks before or just after the `{`): position and
   * body as NDJSON, so quarantine's `_source_record` is byte-exact for every record. Opened on the first such body.
   */
  originals?: { file: string; fd: number; pending: Buffer[]; bytes: number };
}

const NEWLINE = Buffer.from('\n');

/**
 * One partition's open micro-batch. Records are spooled to NDJSON files per (table, ingest date) as they arrive, so
 * a batch costs disk, not memory: memory stays bounded by the client's prefetch whatever the backlog.
 */
export class BatchSpool {
  readonly groups = new Map<string, SpoolGroup>();
  readonly poison: PoisonEvent[] = [];
  first = -1;
  last = -1;
  count = 0;
  bytes = 0;
  openedAt = 0;
  lastEvent: EventPosition | undefined;

  constructor(
    readonly dir: string,
    readonly hub: string,
    readonly partitionId: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  add(e: DecodedEvent): void {
    if (this.count === 0) {
      this.first = e.sequenceNumber;
      this.openedAt = Date.now();
    }
    this.last = e.sequenceNumber;
    this.lastEvent = { partitionId: e.partitionId, sequenceNumber: e.sequenceNumber, offset: e.offset, enqueuedTime: e.enqueuedTime };
    this.count++;
    if (e.kind === 'poison') {
      this.poison.push(e);
      this.bytes += e.body.length;
      return;
    }
    const date = ingestDateOf(e.enqueuedTime);
    const key = `${e.contract.name}|${date}`;
    let g = this.groups.get(key);
    if (!g) {
      const file = join(this.dir, `records-${this.partitionId}-${this.groups.size}.ndjson`);
      g = { table: e.contract.name, date, file, fd: openSync(file, 'w'), keys: new Set(), pending: [], pendingBytes: 0, rows: 0, unparsed: 0, times: [] };
      this.groups.set(key, g);
    }
    // The position rides along as one more field; the record's own fields follow unchanged.
    if (e.kind === 'unparsed') {
      const head = Buffer.from(lineHead(e, e.empty));
      const rest = e.raw.subarray(1);
      g.pending.push(head, rest, NEWLINE);
      g.pendingBytes += head.length + rest.length + 1;
      g.unparsed++;
      if (e.original) this.original(g, e, e.original.toString('utf8'));
    } else {
      for (const k of e.keys) g.keys.add(k);
      const body = e.json.trimStart().slice(1).trimStart();
      const line = Buffer.from(`${lineHead(e, body.startsWith('}'))}${body}\n`);
      g.pending.push(line);
      g.pendingBytes += line.length;
      // The spool line gives back `{` + body: anything else the body held (line breaks, blanks) is kept aside.
      if (e.text.length !== body.length + 1 || !e.text.endsWith(body) || e.text[0] !== '{') this.original(g, e, e.text);
    }
    g.times.push(e.enqueuedTime.getTime());
    g.rows++;
    this.bytes += e.bytes;
    if (g.pendingBytes >= 1 << 20) this.spill(g);
  }

  /** Keeps a body as received beside the spool (see SpoolGroup.originals). */
  private original(g: SpoolGroup, e: EventPosition, text: string): void {
    if (!g.originals) {
      const file = g.file.replace(/\.ndjson$/, '.originals.ndjson');
      g.originals = { file, fd: openSync(file, 'w'), pending: [], bytes: 0 };
    }
    const line = Buffer.from(`${JSON.stringify({ p: positionOf(e), t: text })}\n`);
    g.originals.pending.push(line);
    g.originals.bytes += line.length;
  }

  private spill(g: SpoolGroup): void {
    const o = g.originals;
    if (o && o.pending.length > 0) {
      writeSync(o.fd, Buffer.concat(o.pending, o.bytes));
      o.pending = [];
      o.bytes = 0;
    }
    if (g.pending.length === 0) return;
    writeSync(g.fd, Buffer.concat(g.pending, g.pendingBytes));
    g.pending = [];
    g.pendingBytes = 0;
  }

  /** Writes what is pending and closes the files; the spool is then read by writeBatch. */
  seal(): void {
    for (const g of this.groups.values()) {
      this.spill(g);
      closeSync(g.fd);
      if (g.originals) closeSync(g.originals.fd);
    }
  }

  discard(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const POSITION_FIELD = '__stream_position';

/**
 * Each spooled record's event body, keyed by its position, for quarantine's _source_record: the spool line without
 * the position field it was given, which is the body as received for the usual one-line `{...}` body; a body the
 * spool line does not hold as received (line breaks, blanks) is taken from the group's originals file.
 */
function spoolOriginalsSql(g: SpoolGroup): string {
  const head = `'{"${POSITION_FIELD}":"' || pos || '"'`;
  const spooled = `SELECT pos AS __c360_ok, '{' || CASE WHEN starts_with(rest, ',') THEN substr(rest, 2) ELSE rest END AS __c360_otext
    FROM (SELECT pos, substr(line, strlen(${head}) + 1) AS rest
      FROM (SELECT line, regexp_extract(line, ${lit(`^\{"${POSITION_FIELD}":"([^"]*)"`)}, 1) AS pos
        FROM read_csv(${lit(g.file)}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = ${lit('\x01')}, quote = '', escape = '', new_line = '\\n', strict_mode = false)))`;
  if (!g.originals) return spooled;
  return `SELECT s.__c360_ok, coalesce(x.t, s.__c360_otext) AS __c360_otext FROM (${spooled}) s
    LEFT JOIN read_json(${lit(g.originals.file)}, format = 'newline_delimited', columns = {p: 'VARCHAR', t: 'VARCHAR'}) x ON x.p = s.__c360_ok`;
}

/**
 * A spool line up to the record's first member: `{`, the position field, and a comma unless the record is empty.
 * Positions are digits, '=' and '/': nothing to escape. LINE_HEAD reads it back.
 */
const lineHead = (e: EventPosition, empty: boolean): string => `{"${POSITION_FIELD}":"${positionOf(e)}"${empty ? '' : ','}`;

export interface WriterContext {
  engine: Engine;
  lake: Lake;
  loadId: string;
  tmpDir: string;
  /** Distinguishes this run's file names from an interrupted run's over the same range. */
  runTag: string;
  /** Poison events at or below this sequence number are already in the lake (see poisonHighWater). */
  poisonHighWater: number;
  /** Called after each data file is committed (fault injection in tests). */
  afterFile?: (path: string) => void;
}

export interface BatchResult {
  outputs: string[];
  /** By `TABLE.bronze`, `TABLE.quarantine`, `TABLE.duplicates`, `_events.quarantine`. */
  rowCounts: Record<string, number>;
}

const pad = (n: number) => String(n).padStart(12, '0');

export function batchName(hub: string, partitionId: string, first: number, last: number, runTag?: string): string {
  return `stream-${safeSegment(hub)}-p${safeSegment(partitionId)}-${pad(first)}-${pad(last)}${runTag ? `-${runTag}` : ''}`;
}

export const ingestDateOf = (d: Date): string => d.toISOString().slice(0, 10);
export const positionOf = (e: { partitionId: string; offset: string; sequenceNumber: number }): string =>
  `partition=${e.partitionId}/offset=${e.offset}/sequence=${e.sequenceNumber}`;

/** The highest poison sequence number already committed for a partition, from the poison file names. */
export async function poisonHighWater(lake: Lake, hub: string, partitionId: string): Promise<number> {
  const re = new RegExp(`^stream-${escapeRe(safeSegment(hub))}-p${escapeRe(safeSegment(partitionId))}-(\\d+)-(\\d+)`);
  let high = -1;
  for (const f of await lake.list(POISON_DIR)) {
    const m = re.exec(f.path.slice(f.path.lastIndexOf('/') + 1));
    if (m) high = Math.max(high, Number(m[2]));
  }
  return high;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  for (const line of lines) {
    if (!out.write(line + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function writeBatch(ctx: WriterContext, spool: BatchSpool): Promise<BatchResult> {
  spool.seal();
  const result: BatchResult = { outputs: [], rowCounts: {} };
  const add = (k: string, n: number) => {
    if (n > 0) result.rowCounts[k] = (result.rowCounts[k] ?? 0) + n;
  };
  const work = await mkdtemp(join(ctx.tmpDir, 'stream-'));
  try {
    const name = batchName(spool.hub, spool.partitionId, spool.first, spool.last, ctx.runTag);
    const sourceFile = `eventhubs:${spool.hub}/partition=${spool.partitionId}/sequence=${spool.first}-${spool.last}`;
    for (const g of spool.groups.values()) {
      if (g.unparsed > 0) await checkUnparsed(ctx.engine, g, spool);
      if (g.rows === 0) continue;
      const names = [...[...g.keys].filter((k) => k !== POSITION_FIELD), POSITION_FIELD];
      const sql = `SELECT * FROM read_json(${lit(g.file)}, format = 'newline_delimited', columns = {${names.map((k) => `${lit(k)}: 'VARCHAR'`).join(', ')}})`;
      const r = await ingestRelation(ctx.engine, ctx.lake, {
        table: g.table,
        source: { sql, positionColumn: POSITION_FIELD, varcharColumns: names, originalsSql: spoolOriginalsSql(g) },
        loadId: ctx.loadId,
        ingestDate: g.date,
        sourceFile,
        outputName: name,
        dedupe: true,
        tmpDir: work,
      });
      add(`${g.table}.bronze`, r.bronzeRows);
      add(`${g.table}.quarantine`, r.quarantineRows);
      add(`${g.table}.duplicates`, r.duplicatesDropped);
      for (const o of r.outputs) {
        result.outputs.push(o);
        ctx.afterFile?.(o);
      }
    }
    const poison = new Map<string, PoisonEvent[]>();
    // Poison found at commit (checkUnparsed) joins the poison found on receipt: in sequence order, for the file names.
    spool.poison.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    for (const e of spool.poison) {
      if (e.sequenceNumber <= ctx.poisonHighWater) continue;
      const date = ingestDateOf(e.enqueuedTime);
      (poison.get(date) ?? poison.set(date, []).get(date)!).push(e);
    }
    for (const [date, events] of poison) {
      const path = joinLake(POISON_DIR, `ingest_date=${date}`, `${batchName(spool.hub, spool.partitionId, events[0]!.sequenceNumber, events.at(-1)!.sequenceNumber, ctx.runTag)}.parquet`);
      await writePoison(ctx, work, events, path, sourceFile, spool.hub);
      add('_events.quarantine', events.length);
      result.outputs.push(path);
      ctx.afterFile?.(path);
    }
    return result;
  } finally {
    spool.discard();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Checks the unparsed records of a spool group with DuckDB (every line must be a JSON object naming each key once)
 * and adds their keys. Lines that are not JSON objects (rare: a body that merely starts with `{` and ends with
 * `}`) become NOT_JSON poison, objects naming a key twice MALFORMED poison, with their body as received, and the
 * group file is rewritten without them.
 */
async function checkUnparsed(engine: Engine, g: SpoolGroup, spool: BatchSpool): Promise<void> {
  const lines = `read_json_objects(${lit(g.file)}, format = 'newline_delimited', ignore_errors = true)`;
  // One parallel pass: the count of lines that are not objects, and the distinct key lists (records of a table
  // mostly share one). No row numbering (it would make the pass single-threaded): key lists are taken in sorted
  // order, which keeps the column order the same for the same input.
  const [r] = await engine.all<{ bad: unknown; keysets: string[][] | null }>(
    `SELECT count(*) FILTER (WHERE json IS NULL OR json_type(json) <> 'OBJECT' OR NOT ${keysWellFormedSql('ks')}) AS bad,
            list(DISTINCT ks) FILTER (WHERE json_type(json) = 'OBJECT') AS keysets
     FROM (SELECT json, json_keys(json) AS ks FROM ${lines})`,
  );
  if (Number(r!.bad) > 0) {
    const kept: string[] = [];
    const keys = new Set<string>();
    const text = readFileSync(g.file, 'utf8');
    // Bodies kept aside as received (blanks before the `{`): the poison record keeps them so.
    const originals = new Map<string, string>();
    if (g.originals) {
      for (const l of readFileSync(g.originals.file, 'utf8').split('\n')) {
        if (l === '') continue;
        const o = JSON.parse(l) as { p: string; t: string };
        originals.set(o.p, o.t);
      }
    }
    let i = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const parsed = parseObject(line);
      // A key named twice (the body's, or the position field's name used by the body) is MALFORMED, as on receipt.
      if (parsed && badKey(line) === undefined) {
        kept.push(line);
        for (const k of Object.keys(parsed)) keys.add(k);
      } else {
        spool.poison.push(poisonOfLine(line, g, i, originals, parsed ? REASON.MALFORMED : REASON.NOT_JSON));
      }
      i++;
    }
    writeFileSync(g.file, kept.length > 0 ? kept.join('\n') + '\n' : '');
    g.rows = kept.length;
    g.keys = keys;
    return;
  }
  const keysets = (r!.keysets ?? []).map((ks) => ({ ks, order: JSON.stringify(ks) })).sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  for (const { ks } of keysets) for (const k of ks) g.keys.add(k);
}

const LINE_HEAD = new RegExp(`^\\{"${POSITION_FIELD}":"partition=([^/]*)/offset=([^/]*)/sequence=(\\d+)"(,?)`);

/** The poison record of a spool line that is not a JSON object: its body as received, from the line's position field. */
function poisonOfLine(line: string, g: SpoolGroup, index: number, originals: ReadonlyMap<string, string>, code: string): PoisonEvent {
  const m = LINE_HEAD.exec(line)!;
  const body = originals.get(`partition=${m[1]}/offset=${m[2]}/sequence=${m[3]}`) ?? `{${line.slice(m[0].length)}`;
  return {
    kind: 'poison',
    partitionId: m[1]!,
    offset: m[2]!,
    sequenceNumber: Number(m[3]),
    enqueuedTime: new Date(g.times[index]!),
    table: g.table,
    body,
    bytes: Buffer.byteLength(body),
    reasons: [`_RECORD:${code}`],
  };
}

async function writePoison(ctx: WriterContext, work: string, events: PoisonEvent[], path: string, sourceFile: string, hub: string): Promise<void> {
  const file = join(work, 'poison.ndjson');
  await writeLines(
    file,
    events.map((e) =>
      JSON.stringify({
        _table: e.table,
        _body: e.body,
        _body_bytes: e.bytes,
        _reasons: e.reasons,
        _source_position: positionOf(e),
        _partition_id: e.partitionId,
        _offset: e.offset,
        _sequence_number: e.sequenceNumber,
        _enqueued_time: e.enqueuedTime.toISOString(),
      }),
    ),
  );
  const ingestedAt = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const columns =
    "{_table: 'VARCHAR', _body: 'VARCHAR', _body_bytes: 'INTEGER', _reasons: 'VARCHAR[]', _source_position: 'VARCHAR', " +
    "_partition_id: 'VARCHAR', _offset: 'VARCHAR', _sequence_number: 'BIGINT', _enqueued_time: 'TIMESTAMPTZ'}";
  const tmp = join(work, 'poison.parquet');
  await ctx.engine.run(
    `COPY (SELECT _table, _body, _body_bytes, _reasons, _source_position, _partition_id, _offset, _sequence_number, ` +
      `CAST(_enqueued_time AS TIMESTAMP) AS _enqueued_time, ${lit(ctx.loadId)} AS _load_id, CAST(${lit(ingestedAt)} AS TIMESTAMP) AS _ingested_at, ` +
      `${lit(`EventHubs:${hub}`)} AS _source_system, ${lit(sourceFile)} AS _source_file, md5(coalesce(_body, '')) AS _record_hash, ` +
      `CAST(NULL AS INTEGER) AS _schema_version FROM read_json(${lit(file)}, format = 'newline_delimited', columns = ${columns})) ` +
      `TO ${lit(tmp)} (FORMAT parquet)`,
  );
  await ctx.lake.putFile(tmp, path);
}
