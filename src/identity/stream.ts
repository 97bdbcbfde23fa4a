// The streaming identity consumer (`c360 identity-stream`): customer records from the identity topic
// (c360-id-resolution) are linked into the persisted graph (graph.ts, incremental.ts) as they arrive, and each change
// event is published to the changes topic (c360-identity-changes, outbox.ts).
//
// Commit discipline (as the Bronze stream's, with the position kept beside the data it describes): each micro-batch
// is one updateGraph transaction that also writes every partition's last consumed sequence number
// (g.stream_positions) and the batch's refused events (g.stream_quarantine). A restart resumes after the stored
// positions, so a batch is applied once or not at all whatever the moment of a crash; the change events it produced
// sit in the outbox (g.changes). They are sent from memory right after the commit; the published mark
// (g.outbox_published) moves inside the next batch's commit, or after a second without batches, or at the end, so a
// batch costs one durable commit. A restart finds changes above the mark, looks for them on the changes topic (a
// crash after the send) and sends only those not there.
//
// Linking goes through the graph held in memory (live-graph.ts: the same result as updateGraph, without reading the
// graph's tables per batch).
//
// Batching follows the load: a batch is cut whenever the previous one is committed, so a lone record is linked at
// once and a backlog is taken in batches of up to maxRecords (which is also the receive backpressure).
import { earliestEventPosition, type EventHubConsumerClient, type EventHubProducerClient, type EventPosition, type Subscription } from '@azure/event-hubs';
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';
import { TransientError, UsageError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import { DEFAULT_HUBS } from '../collect/hubs.ts';
import { consumerFor, producerFor, type HubTarget } from '../streaming/connect.ts';
import { appendRows } from './append.ts';
import { hasRecords, openGraph } from './graph.ts';
import { contentRunId, type UpdateResult } from './incremental.ts';
import { LiveGraph } from './live-graph.ts';
import { CHANGES_HUB, crashPoint, ensureOutbox, markSql, publishedSeq, publishPending, sendEvents } from './outbox.ts';
import { decodeIdentityEvent, type DecodedIdentityEvent } from './stream-decode.ts';

export const RECORDS_HUB = DEFAULT_HUBS.identity;
/** Its own consumer group: the Bronze stream reads the same topic with $Default. */
export const IDENTITY_CONSUMER_GROUP = 'c360-identity';

export interface IdentityStreamOptions {
  /** The graph folder (DIR/graph.duckdb), built first by `c360 resolve --incremental` or the daily pipeline. */
  state: string;
  /** Records topic; its connection string or namespace also reaches the changes topic. */
  target: HubTarget;
  changesHub?: string;
  consumerGroup?: string;
  /** Tenant of records without a TENANT_ID. */
  tenant?: string;
  log: Logger;
  /** Largest batch (records); also how many received records may wait for a commit. Default 1,000. */
  maxRecords?: number;
  untilIdleSeconds?: number;
  signal?: AbortSignal;
  /** Called after each committed and published batch (tests, the benchmark). */
  onBatch?: (b: BatchReport) => void;
}

export interface BatchReport {
  records: number;
  other: number;
  poison: number;
  result: UpdateResult;
  published: number;
  /** Per record: milliseconds from its enqueued time to the publish of the batch's changes. */
  latenciesMs: number[];
  commitMs: number;
}

export interface IdentityStreamResult {
  events: number;
  records: number;
  other: number;
  poison: number;
  batches: number;
  changes: Record<string, number>;
  published: number;
  /** Pending changes found already on the changes topic at start (a crash after their publish). */
  recoveredSkipped: number;
  resumedAfter: Record<string, number | null>;
}

async function ensureStreamTables(engine: Engine): Promise<void> {
  await engine.run(`CREATE TABLE IF NOT EXISTS g.stream_positions (HUB VARCHAR, CONSUMER_GROUP VARCHAR, PARTITION_ID VARCHAR,
    SEQUENCE_NUMBER BIGINT, EH_OFFSET VARCHAR, ENQUEUED_TIME TIMESTAMP, RUN_ID VARCHAR, COMMITTED_AT TIMESTAMP)`);
  await engine.run(`CREATE TABLE IF NOT EXISTS g.stream_quarantine (HUB VARCHAR, PARTITION_ID VARCHAR, SEQUENCE_NUMBER BIGINT,
    REASON VARCHAR, BODY VARCHAR, RUN_ID VARCHAR, QUARANTINED_AT TIMESTAMP)`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE id_stream_poison (HUB VARCHAR, PARTITION_ID VARCHAR, SEQUENCE_NUMBER BIGINT,
    REASON VARCHAR, BODY VARCHAR, RUN_ID VARCHAR, QUARANTINED_AT TIMESTAMP)`);
}

export async function storedPositions(engine: Engine, hub: string, consumerGroup: string): Promise<Map<string, number>> {
  const rows = await engine.all<{ PARTITION_ID: string; SEQUENCE_NUMBER: string }>(
    `SELECT PARTITION_ID, SEQUENCE_NUMBER FROM g.stream_positions WHERE HUB = ${lit(hub)} AND CONSUMER_GROUP = ${lit(consumerGroup)}`,
  );
  return new Map(rows.map((r) => [r.PARTITION_ID, Number(r.SEQUENCE_NUMBER)]));
}

/** Runs until aborted, idle for untilIdleSeconds, or a commit fails (the next run resumes from the last commit). */
export async function runIdentityStream(o: IdentityStreamOptions): Promise<IdentityStreamResult> {
  const hub = o.target.hub;
  const changesHub = o.changesHub ?? CHANGES_HUB;
  const cg = o.consumerGroup ?? IDENTITY_CONSUMER_GROUP;
  const maxRecords = o.maxRecords ?? 1000;
  const engine = await openGraph(o.state);
  let consumer: EventHubConsumerClient | undefined;
  let producer: EventHubProducerClient | undefined;
  let changesReader: EventHubConsumerClient | undefined;
  const subscriptions: Subscription[] = [];
  const result: IdentityStreamResult = { events: 0, records: 0, other: 0, poison: 0, batches: 0, changes: {}, published: 0, recoveredSkipped: 0, resumedAfter: {} };
  try {
    if (!(await hasRecords(engine))) {
      throw new UsageError(`--state ${o.state} holds no identity graph yet: build it first (c360 resolve --incremental --state ${o.state} --input base.csv, or the daily pipeline), so the model is trained on more than the first few streamed records`);
    }
    await ensureStreamTables(engine);
    await ensureOutbox(engine);
    // The graph in memory: a batch reads nothing from the graph's tables (live-graph.ts).
    const t = Date.now();
    const live = await LiveGraph.load(engine);
    o.log.info('identity graph loaded', { records: live.records, ms: Date.now() - t, rssMb: Math.round(process.memoryUsage().rss / 1048576) });
    producer = await producerFor({ ...o.target, hub: changesHub });
    // Changes a crashed run committed but may not have published (or published without recording it).
    changesReader = await consumerFor({ ...o.target, hub: changesHub }, '$Default');
    const recovered = await publishPending(engine, producer, changesHub, { recover: changesReader });
    await changesReader.close();
    changesReader = undefined;
    result.published += recovered.published;
    result.recoveredSkipped = recovered.skipped;
    if (recovered.published + recovered.skipped > 0) o.log.info('outbox recovered', { changesHub, ...recovered });

    // After the recovery every committed change is published: from now on a batch's changes are sent from memory
    // right after its commit, and the published mark moves with the next batch's commit (or after a second idle, or
    // at the end). A crash before the mark moved leaves published changes pending: the next start finds them on the
    // topic and skips them (the recovery above).
    let markedSeq = await publishedSeq(engine, changesHub);
    let sentSeq = live.lastSeq;
    let lastDone = Date.now();
    const writeMark = async () => {
      const seq = sentSeq;
      await engine.run('BEGIN TRANSACTION');
      try {
        for (const sql of markSql(changesHub, seq)) await engine.run(sql);
        await engine.run('COMMIT');
      } catch (e) {
        await engine.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
      markedSeq = seq;
    };
    const threads = Number(await engine.scalar("SELECT current_setting('threads')"));
    let threadsNow = threads;
    consumer = await consumerFor(o.target, cg);
    const positions = await storedPositions(engine, hub, cg);
    const ids = await consumer.getPartitionIds();
    for (const id of ids) result.resumedAfter[id] = positions.get(id) ?? null;

    let buffer: DecodedIdentityEvent[] = [];
    /** The last batch's change events being sent (each send chained after the one before: SEQ order). */
    let sending: Promise<void> = Promise.resolve();
    let running: Promise<void> | undefined;
    let fatal: unknown;
    let lastEventAt = Date.now();
    const waiters: (() => void)[] = [];

    const commitBatch = async (events: DecodedIdentityEvent[]) => {
      const t0 = Date.now();
      const records = events.filter((e) => e.kind === 'record');
      const poison = events.filter((e) => e.kind === 'poison');
      const last = new Map<string, DecodedIdentityEvent>();
      for (const e of events) if ((last.get(e.partitionId)?.sequenceNumber ?? -1) < e.sequenceNumber) last.set(e.partitionId, e);
      // The same events always make the same run id (and so the same change event ids).
      const runId = contentRunId('stream', [...last.values()].map((e) => `${hub}/${cg}/${e.partitionId}/${e.sequenceNumber}`).sort().join(','));
      // A few records: one DuckDB thread (for statements over a handful of rows, more threads only cost scheduling).
      const want = records.length < 64 ? 1 : threads;
      if (want !== threadsNow) await engine.run(`SET threads = ${(threadsNow = want)}`);
      if (poison.length) await engine.run('DELETE FROM id_stream_poison');
      await appendRows(engine, 'id_stream_poison', poison.map((p) => [hub, p.partitionId, p.sequenceNumber, p.reason, p.body, runId, new Date().toISOString()]));
      const parts = [...last.values()];
      const commitSql = [
        `DELETE FROM g.stream_positions WHERE HUB = ${lit(hub)} AND CONSUMER_GROUP = ${lit(cg)} AND PARTITION_ID IN (${parts.map((p) => lit(p.partitionId)).join(', ')})`,
        `INSERT INTO g.stream_positions VALUES ${parts
          .map((p) => `(${lit(hub)}, ${lit(cg)}, ${lit(p.partitionId)}, ${p.sequenceNumber}, ${lit(p.offset)}, ${lit(p.enqueuedTime.toISOString())}::TIMESTAMPTZ, ${lit(runId)}, now())`)
          .join(', ')}`,
        ...(poison.length ? ['INSERT INTO g.stream_quarantine SELECT * FROM id_stream_poison'] : []),
        ...(sentSeq > markedSeq ? markSql(changesHub, sentSeq) : []),
      ];
      const marking = sentSeq;
      const r = await live.updateRows(engine, records.map((x) => (x as { values: (string | null)[] }).values), { runId, tenant: o.tenant, commitSql });
      markedSeq = marking;
      crashPoint('AFTER_GRAPH_COMMIT');
      const commitMs = Date.now() - t0;
      const first = live.lastSeq - r.events.length + 1;
      const upTo = live.lastSeq;
      for (const p of parts) positions.set(p.partitionId, p.sequenceNumber);
      // The changes go out in the background, in SEQ order, while the next batch links (its JavaScript runs while
      // this send waits on the network, and this send's while the next commit runs in DuckDB). The published mark,
      // written in a later commit, covers only sends that completed; at most two sends are in flight.
      const send = sending.then(async () => {
        if (r.events.length) {
          await sendEvents(producer!, r.events.map((ev, i) => ({ SEQ: first + i, EVENT_ID: ev.eventId, TENANT_ID: ev.tenantId, TYPE: ev.type, EVENT: JSON.stringify(ev) })));
          crashPoint('AFTER_PUBLISH');
        }
        sentSeq = upTo;
        const done = Date.now();
        lastDone = done;
        result.batches++;
        result.records += records.length;
        result.poison += poison.length;
        result.other += events.length - records.length - poison.length;
        result.published += r.events.length;
        for (const e of r.events) result.changes[e.type] = (result.changes[e.type] ?? 0) + 1;
        if (poison.length) o.log.warn('identity events quarantined', { count: poison.length, reasons: [...new Set(poison.map((p) => (p as { reason: string }).reason))] });
        o.log.progress(`identity batch ${result.batches}: ${records.length} records, ${r.events.length} changes`, {
          records: result.records, new: r.newRecords, changed: r.changedRecords, published: r.events.length, commitMs, ms: r.timingsMs,
        });
        o.onBatch?.({ records: records.length, other: events.length - records.length - poison.length, poison: poison.length, result: r, published: r.events.length, latenciesMs: events.map((e) => done - e.enqueuedTime.getTime()), commitMs });
      });
      const previous = sending;
      sending = send;
      send.catch((e) => {
        fatal ??= e;
      });
      // Back-pressure: the batch before this one must be out before a third send queues up.
      await previous;
    };

    // One batch at a time (one engine, one graph writer); the next is cut from whatever arrived meanwhile.
    const kick = () => {
      if (running || fatal || buffer.length === 0) return;
      const events = buffer.splice(0, maxRecords);
      running = commitBatch(events)
        .catch((e) => {
          fatal ??= e;
        })
        .finally(() => {
          running = undefined;
          while (waiters.length && (fatal || buffer.length < maxRecords)) waiters.shift()!();
          kick();
        });
    };

    for (const id of ids) {
      const after = positions.get(id);
      const startPosition: EventPosition = after === undefined ? earliestEventPosition : { sequenceNumber: after, isInclusive: false };
      subscriptions.push(
        consumer.subscribe(
          id,
          {
            processEvents: async (events) => {
              if (events.length === 0) return;
              lastEventAt = Date.now();
              result.events += events.length;
              for (const e of events) {
                buffer.push(decodeIdentityEvent({ partitionId: id, sequenceNumber: e.sequenceNumber, offset: String(e.offset), enqueuedTime: e.enqueuedTimeUtc }, e));
              }
              kick();
              // Backpressure: receiving waits while a full batch is already waiting for the graph.
              while (buffer.length >= maxRecords && !fatal) await new Promise<void>((r) => waiters.push(r));
            },
            processError: async (err) => {
              o.log.warn('event hubs receive error', { partition: id, error: (err as Error).message });
            },
          },
          { startPosition, maxBatchSize: maxRecords, maxWaitTimeInSeconds: 1, prefetchCount: maxRecords * 2, skipParsingBodyAsJson: true },
        ),
      );
    }
    o.log.info('identity stream', { hub, changesHub, consumerGroup: cg, partitions: ids.length, resumeAfter: result.resumedAfter });

    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        // A second without batches: the published mark catches up (one small transaction).
        if (!running && !fatal && buffer.length === 0 && sentSeq > markedSeq && Date.now() - lastDone >= 1000) {
          running = sending.then(writeMark)
            .catch((e) => {
              fatal ??= e;
            })
            .finally(() => {
              running = undefined;
              kick();
            });
        }
        const idle = o.untilIdleSeconds !== undefined && !running && buffer.length === 0 && Date.now() - lastEventAt >= o.untilIdleSeconds * 1000;
        if (fatal || o.signal?.aborted || idle) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    // Drain: stop receiving, commit what is buffered.
    await Promise.all(subscriptions.map((s) => s.close()));
    while (!fatal && (running || buffer.length > 0)) {
      kick();
      await running;
    }
    await sending.catch(() => undefined);
    while (waiters.length) waiters.shift()!();
    if (!fatal && sentSeq > markedSeq) await writeMark();
    if (fatal) throw new TransientError(`Identity stream commit failed: ${(fatal as Error).message}`, fatal);
    return result;
  } finally {
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    await consumer?.close().catch(() => {});
    await changesReader?.close().catch(() => {});
    await producer?.close().catch(() => {});
    engine.close();
  }
}
