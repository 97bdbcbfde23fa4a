// Writes one partition's micro-batch to the lake: records grouped by (table, ingest date) go through the shared
// Bronze ingestion core (same contract validation, quarantine reasons and `_record_hash` dedupe as batch drops);
// poison events (not JSON, unknown table, oversized) go to quarantine/customer360/_events with their position.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ingestRelation } from '../bronze/ingest.ts';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { safeSegment } from './checkpoint.ts';
import type { DecodedEvent, PoisonEvent, RecordEvent } from './decode.ts';

/** Folder for events that cannot be attributed to a table's record (quarantine layout, one dataset). */
export const POISON_DIR = 'quarantine/customer360/_events';

export interface Batch {
  hub: string;
  partitionId: string;
  first: number;
  last: number;
  events: DecodedEvent[];
}

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

export async function writeBatch(ctx: WriterContext, batch: Batch): Promise<BatchResult> {
  const result: BatchResult = { outputs: [], rowCounts: {} };
  const add = (k: string, n: number) => {
    if (n > 0) result.rowCounts[k] = (result.rowCounts[k] ?? 0) + n;
  };
  const work = await mkdtemp(join(ctx.tmpDir, 'stream-'));
  try {
    const groups = new Map<string, RecordEvent[]>();
    const poison = new Map<string, PoisonEvent[]>();
    for (const e of batch.events) {
      const date = ingestDateOf(e.enqueuedTime);
      if (e.kind === 'record') {
        const k = `${e.contract.name}|${date}`;
        (groups.get(k) ?? groups.set(k, []).get(k)!).push(e);
      } else if (e.sequenceNumber > ctx.poisonHighWater) {
        (poison.get(date) ?? poison.set(date, []).get(date)!).push(e);
      }
    }
    const name = batchName(batch.hub, batch.partitionId, batch.first, batch.last, ctx.runTag);
    const sourceFile = `eventhubs:${batch.hub}/partition=${batch.partitionId}/sequence=${batch.first}-${batch.last}`;
    let n = 0;
    for (const [key, records] of groups) {
      const [table, date] = key.split('|') as [string, string];
      const file = join(work, `records-${n++}.ndjson`);
      const keys = new Map<string, true>();
      for (const r of records) for (const k of r.keys) keys.set(k, true);
      await writeLines(
        file,
        (function* () {
          for (const r of records) yield `{"p":${JSON.stringify(positionOf(r))},"r":${r.json}}`;
        })(),
      );
      const cols = [...keys.keys()].map((k) => `(json -> 'r') ->> ${lit(k)} AS ${ident(k)}`);
      const sql = `SELECT ${cols.join(', ')}, json ->> 'p' AS __stream_position FROM read_json_objects(${lit(file)}, format = 'newline_delimited')`;
      const r = await ingestRelation(ctx.engine, ctx.lake, {
        table,
        source: { sql, positionColumn: '__stream_position' },
        loadId: ctx.loadId,
        ingestDate: date,
        sourceFile,
        outputName: name,
        dedupe: true,
        tmpDir: work,
      });
      add(`${table}.bronze`, r.bronzeRows);
      add(`${table}.quarantine`, r.quarantineRows);
      add(`${table}.duplicates`, r.duplicatesDropped);
      for (const o of r.outputs) {
        result.outputs.push(o);
        ctx.afterFile?.(o);
      }
    }
    for (const [date, events] of poison) {
      const path = joinLake(POISON_DIR, `ingest_date=${date}`, `${batchName(batch.hub, batch.partitionId, events[0]!.sequenceNumber, events.at(-1)!.sequenceNumber, ctx.runTag)}.parquet`);
      await writePoison(ctx, work, events, path, sourceFile, batch.hub);
      add('_events.quarantine', events.length);
      result.outputs.push(path);
      ctx.afterFile?.(path);
    }
    return result;
  } finally {
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
