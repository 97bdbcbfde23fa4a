// The change outbox: g.changes (written in the same transaction as the graph update that caused the changes) is
// published to the changes topic (c360-identity-changes) in SEQ order, and how far it was published is kept in
// g.outbox_published. A crash after the graph commit and before the publish leaves the events in the outbox: the
// next start publishes them. A crash after the publish and before the high-water mark is written would publish them
// twice, so a start that finds pending events first reads the topic's events enqueued since the oldest pending one
// was created and skips the ids already there (message id = event id; consumers can also dedupe by it).
// Events go out with partition key = tenant, so one tenant's changes keep their order.
import type { EventHubConsumerClient, EventHubProducerClient, EventData } from '@azure/event-hubs';
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';

export const CHANGES_HUB = 'c360-identity-changes';
/** Margin for clock skew between this machine (event times) and the hub (enqueued times) when looking for repeats. */
const SKEW_MS = 5 * 60_000;

export async function ensureOutbox(engine: Engine): Promise<void> {
  await engine.run('CREATE TABLE IF NOT EXISTS g.outbox_published (HUB VARCHAR, SEQ BIGINT, PUBLISHED_AT TIMESTAMP)');
}

export async function publishedSeq(engine: Engine, hub: string): Promise<number> {
  return Number((await engine.scalar(`SELECT max(SEQ) FROM g.outbox_published WHERE HUB = ${lit(hub)}`)) ?? 0);
}

interface Pending extends OutboxRow {
  EVENT_AT: string;
}

export interface PublishResult {
  published: number;
  /** Pending events found already on the topic (a crash after their publish): not sent again. */
  skipped: number;
}

/** Test hook: C360_TEST_CRASH_<POINT>=1 kills the process there (as kill -9 would), to prove recovery. */
export function crashPoint(point: string): void {
  if (process.env[`C360_TEST_CRASH_${point}`] === '1') process.kill(process.pid, 'SIGKILL');
}

/**
 * Publishes every change with SEQ above the high-water mark, then moves the mark. `recover`: first look on the topic
 * for pending events a crashed run already sent (done once, at start).
 */
export async function publishPending(
  engine: Engine,
  producer: EventHubProducerClient,
  hub: string,
  options: { recover?: EventHubConsumerClient } = {},
): Promise<PublishResult> {
  const from = await publishedSeq(engine, hub);
  const rows = await engine.all<Pending>(`SELECT SEQ, EVENT_ID, TENANT_ID, TYPE, strftime(EVENT_AT, '%Y-%m-%dT%H:%M:%S.%gZ') AS EVENT_AT, EVENT FROM g.changes WHERE SEQ > ${from} ORDER BY SEQ`);
  if (rows.length === 0) return { published: 0, skipped: 0 };
  let send = rows;
  if (options.recover) {
    const oldest = rows.reduce((m, r) => Math.min(m, Date.parse(r.EVENT_AT)), Infinity);
    const seen = await messageIdsSince(options.recover, new Date(oldest - SKEW_MS));
    send = rows.filter((r) => !seen.has(r.EVENT_ID));
  }
  await sendEvents(producer, send);
  crashPoint('AFTER_PUBLISH');
  const last = rows[rows.length - 1]!.SEQ;
  await engine.run('BEGIN TRANSACTION');
  try {
    for (const sql of markSql(hub, Number(last))) await engine.run(sql);
    await engine.run('COMMIT');
  } catch (e) {
    await engine.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return { published: send.length, skipped: rows.length - send.length };
}

/** Statements moving the published high-water mark (run inside a transaction). */
export function markSql(hub: string, seq: number): string[] {
  return [`DELETE FROM g.outbox_published WHERE HUB = ${lit(hub)}`, `INSERT INTO g.outbox_published VALUES (${lit(hub)}, ${seq}, now())`];
}

/** A change as it sits in the outbox: its SEQ, id, tenant, type and the event as JSON. */
export interface OutboxRow {
  SEQ: string | number;
  EVENT_ID: string;
  TENANT_ID: string;
  TYPE: string;
  EVENT: string;
}

/** Sends changes in SEQ order; consecutive events of one tenant go in one batch (one partition key). */
export async function sendEvents(producer: EventHubProducerClient, send: readonly OutboxRow[]): Promise<void> {
  let i = 0;
  while (i < send.length) {
    const tenant = send[i]!.TENANT_ID;
    let batch = await producer.createBatch({ partitionKey: tenant });
    while (i < send.length && send[i]!.TENANT_ID === tenant) {
      const r = send[i]!;
      const event: EventData = {
        body: Buffer.from(r.EVENT),
        contentType: 'application/json',
        messageId: r.EVENT_ID,
        properties: { type: r.TYPE, tenant: r.TENANT_ID, seq: Number(r.SEQ) },
      };
      if (batch.tryAdd(event)) {
        i++;
        continue;
      }
      if (batch.count === 0) throw new Error(`Change event ${r.EVENT_ID} is larger than the hub's largest event`);
      await producer.sendBatch(batch);
      batch = await producer.createBatch({ partitionKey: tenant });
    }
    if (batch.count > 0) await producer.sendBatch(batch);
  }
}

/** Message ids of every event on the hub enqueued at or after `since`, up to the last one enqueued now. */
export async function messageIdsSince(client: EventHubConsumerClient, since: Date): Promise<Set<string>> {
  const ids = new Set<string>();
  const partitions = await client.getPartitionIds();
  for (const p of partitions) {
    const props = await client.getPartitionProperties(p);
    if (props.isEmpty || props.lastEnqueuedSequenceNumber < 0) continue;
    const last = props.lastEnqueuedSequenceNumber;
    await new Promise<void>((resolve, reject) => {
      const sub = client.subscribe(
        p,
        {
          processEvents: async (events) => {
            for (const e of events) if (e.messageId !== undefined) ids.add(String(e.messageId));
            const done = events.length === 0 || events[events.length - 1]!.sequenceNumber >= last;
            if (done) void sub.close().then(resolve, reject);
          },
          processError: async (err) => {
            void sub.close();
            reject(err);
          },
        },
        { startPosition: { enqueuedOn: since }, maxBatchSize: 500, maxWaitTimeInSeconds: 1 },
      );
    });
  }
  return ids;
}
