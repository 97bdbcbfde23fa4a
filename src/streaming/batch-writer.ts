// Writes one partition's micro-batch to the lake: records grouped by (table, ingest date) go through the shared
// Bronze ingestion core (same contract validation, quarantine reasons and `_record_hash` dedupe as batch drops);
// poison events (not JSON, unknown table, oversized) go to quarantine/customer360/_events with their position.
import { closeSync, createWriteStream, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ingestRelation } from '../bronze/ingest.ts';
import { lit, type Engine } from '../engine/duckdb.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { safeSegment } from './checkpoint.ts';
import type { DecodedEvent, EventPosition, PoisonEvent } from './decode.ts';

/** Folder for events that cannot be attributed to a table's record (quarantine layout, one dataset). */
export const POISON_DIR = 'quarantine/customer360/_events';

/**
 * One partition's open micro-batch. Records are spooled to NDJSON files per (table, ingest date) as they arrive, so
 * a batch costs disk, not memory: memory stays bounded by the client's prefetch whatever the backlog.
 */
export class BatchSpool {
  readonly groups = new Map<string, { table: string; date: string; file: string; fd: number; keys: Set<string>; pending: string[]; pendingBytes: number; rows: number }>();
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
      g = { table: e.contract.name, date, file, fd: openSync(file, 'w'), keys: new Set(), pending: [], pendingBytes: 0, rows: 0 };
      this.groups.set(key, g);
    }
    for (const k of e.keys) g.keys.add(k);
    // The position rides along as one more field; the record's own fields follow unchanged.
    const body = e.json.trimStart().slice(1).trimStart();
    // Positions are digits, '=' and '/': nothing to escape.
    const line = `{"${POSITION_FIELD}":"${positionOf(e)}"${body.startsWith('}') ? '' : ','}${body}\n`;
    g.pending.push(line);
    g.pendingBytes += line.length;
    g.rows++;
    this.bytes += e.bytes;
    if (g.pendingBytes >= 1 << 20) this.spill(g);
  }

  private spill(g: { fd: number; pending: string[]; pendingBytes: number }): void {
    if (g.pending.length === 0) return;
    writeSync(g.fd, g.pending.join(''));
    g.pending = [];
    g.pendingBytes = 0;
  }

  /** Writes what is pending and closes the files; the spool is then read by writeBatch. */
  seal(): void {
    for (const g of this.groups.values()) {
      this.spill(g);
      closeSync(g.fd);
    }
  }

  discard(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const POSITION_FIELD = '__stream_position';

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
      const names = [...[...g.keys].filter((k) => k !== POSITION_FIELD), POSITION_FIELD];
      const sql = `SELECT * FROM read_json(${lit(g.file)}, format = 'newline_delimited', columns = {${names.map((k) => `${lit(k)}: 'VARCHAR'`).join(', ')}})`;
      const r = await ingestRelation(ctx.engine, ctx.lake, {
        table: g.table,
        source: { sql, positionColumn: POSITION_FIELD, varcharColumns: names },
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
