// Replay: publishes the rows of a drop file as events, one record per event (body = the record as JSON, the table
// in the `table` application property), batched, partition key = the customer id so a customer's events stay in
// order in one partition. Used for local demos, tests, the benchmark and `c360 run --stream`.
import { extname } from 'node:path';
import type { EventHubProducerClient } from '@azure/event-hubs';
import { getContract } from '../../schemas/index.ts';
import { Engine, ident, lit } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';

/** The application property naming the source table of an event. */
export const TABLE_PROPERTY = 'table';

export interface ReplayResult {
  table: string;
  events: number;
  batches: number;
}

export function dropSource(file: string): string {
  const ext = extname(file).toLowerCase();
  if (ext === '.parquet') return `read_parquet(${lit(file)})`;
  if (ext === '.csv') return `read_csv(${lit(file)}, header = true, all_varchar = true)`;
  if (ext === '.json' || ext === '.ndjson' || ext === '.jsonl') return `read_json(${lit(file)})`;
  throw new UsageError(`Cannot replay ${file}: expected a .parquet, .csv or .json(l) drop`);
}

/** Publishes the rows of `file` as `table` events. `limit` caps the rows (tests, partial replays). */
export async function replayDrop(
  producer: EventHubProducerClient,
  table: string,
  file: string,
  options: { limit?: number; concurrency?: number; onProgress?: (sent: number) => void } = {},
): Promise<ReplayResult> {
  const contract = getContract(table);
  const engine = await Engine.open();
  try {
    const cols = await engine.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${dropSource(file)})`);
    const names = cols.map((c) => c.column_name);
    const keyCol = names.find((n) => n.toUpperCase() === 'CUSTOMER_ID') ?? contract.primaryKey.find((k) => names.includes(k));
    const keyExpr = keyCol ? `CAST(${ident(keyCol)} AS VARCHAR)` : 'NULL';
    // Sorted by key, then file order: each key's events go out in file order, and a batch holds one key.
    const sql =
      `SELECT ${keyExpr} AS k, CAST(to_json(t) AS VARCHAR) AS j FROM ` +
      `(SELECT * FROM ${dropSource(file)} ${options.limit !== undefined ? `LIMIT ${Math.floor(options.limit)}` : ''}) t ORDER BY k NULLS LAST`;
    const result = await engine.connection.stream(sql);
    return await publishRows(producer, contract.name, result.yieldRowsJson() as AsyncIterable<[string | null, string][]>, options);
  } finally {
    engine.close();
  }
}

/** Publishes (partitionKey, json) rows, batching consecutive rows of the same key; a few batches in flight. */
export async function publishRows(
  producer: EventHubProducerClient,
  table: string,
  chunks: AsyncIterable<[string | null, string][]> | Iterable<[string | null, string][]>,
  options: { concurrency?: number; onProgress?: (sent: number) => void } = {},
): Promise<ReplayResult> {
  const maxInFlight = options.concurrency ?? 8;
  const inFlight = new Set<Promise<void>>();
  let events = 0;
  let batches = 0;
  let batch: Awaited<ReturnType<EventHubProducerClient['createBatch']>> | undefined;
  let batchKey: string | null = null;
  let failure: unknown;

  const send = async () => {
    if (!batch || batch.count === 0) return;
    const b = batch;
    batch = undefined;
    // One AMQP link per producer keeps sends in order, so several batches can be in flight.
    const p = producer.sendBatch(b).then(() => {
      events += b.count;
      batches++;
      options.onProgress?.(events);
    });
    inFlight.add(p);
    p.catch((e) => (failure ??= e)).finally(() => inFlight.delete(p));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight).catch(() => {});
    if (failure) throw failure;
  };

  const newBatch = async (key: string | null) => {
    batch = await producer.createBatch(key === null ? {} : { partitionKey: key });
    batchKey = key;
  };

  for await (const rows of chunks) {
    for (const [key, json] of rows) {
      const event = { body: Buffer.from(json), contentType: 'application/json', properties: { [TABLE_PROPERTY]: table } };
      if (!batch || key !== batchKey) {
        await send();
        await newBatch(key);
      }
      if (!batch!.tryAdd(event)) {
        await send();
        await newBatch(key);
        if (!batch!.tryAdd(event)) throw new Error(`A ${table} record of ${json.length} bytes does not fit in one event`);
      }
    }
  }
  await send();
  await Promise.allSettled(inFlight);
  if (failure) throw failure;
  return { table, events, batches };
}
