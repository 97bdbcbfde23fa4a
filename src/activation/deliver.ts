// Delivery of the committed batches to their destinations: the profile change feed to topic c360-updated-profiles,
// and each audience's entered/exited events to its destinations (webhooks, the c360-activation-events topic, files on
// the lake). Every destination has a cursor (cursor.ts): it receives the committed batches after its cursor, in order,
// and a crash or a failing receiver leaves it where it stopped. Consent: a marketing destination receives an entered
// member only when the member's CONSENT_<channel> is TRUE in the profile of the batch's as-of date; a profile without
// that column sends nobody (fail closed). Exits carry no attributes and are always sent, so destinations can remove.
import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { columns, type Dataset } from '../catalogue/dataset.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit, litList } from '../engine/duckdb.ts';
import { GOLD_ROOT } from '../gold/paths.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery } from '../lake/parquet.ts';
import { C360Error, UsageError, isTransient } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import type { HubTarget } from '../streaming/connect.ts';
import { T } from '../warehouse/types.ts';
import type { Audience, Destination, WebhookDestination } from './audience-file.ts';
import { audienceEvents, registerBase } from './audiences.ts';
import { readCursor, saveCursor, type Cursor } from './cursor.ts';
import { ACTIVATION_TOPIC, PROFILE_TOPIC, type AudienceEvent, type ProfileEvent } from './event-schemas.ts';
import { ACTIVATION_ROOT } from './paths.ts';
import { committedBatches, profileChanges, type CommittedBatch } from './profile-changes.ts';
import { openTopic, type TopicClient, type TopicEvent } from './topics.ts';
import { deliverWebhookBatch } from './webhook.ts';

export const activationDeadLetters: Dataset = {
  name: 'activation_dead_letters',
  layer: 'gold',
  path: `${GOLD_ROOT}/activation_dead_letters`,
  description: 'Records a destination rejected for good (a webhook answered 4xx for the record alone): what, where and why',
  grain: 'one row per rejected record (files destination=<id>/batch-N-<index>.parquet)',
  maintenance: 'append',
  job: 'activate',
  inputs: ['audience_events'],
  primaryKey: ['DESTINATION', 'EVENT_ID'],
  columns: columns([
    ['DESTINATION', T.varchar, '<audience>.<destination name>'],
    ['EVENT_ID', T.varchar, 'Event id of the rejected record'],
    ['CUSTOMER360_ID', T.varchar, 'Person of the record'],
    ['BATCH', T.bigint, 'Batch the record belongs to'],
    ['HTTP_STATUS', T.integer, 'Status the receiver answered for the record alone'],
    ['REASON', T.varchar, 'Start of the receiver\'s answer'],
    ['PAYLOAD', T.varchar, 'The event as JSON, as it was sent'],
  ]),
};

export const EXPORTS_ROOT = `${ACTIVATION_ROOT}/exports`;

export interface DeliveryResult {
  destination: string;
  type: string;
  batches: number[];
  sent: number;
  deadLettered: number;
  skippedNoConsent: number;
  files: string[];
  error?: string;
}

export interface ActivateOptions {
  /** Deliver only this audience's destinations (and not the profile topic). */
  audience?: string;
  dryRun?: boolean;
  /** Event Hubs connection for the topics; none: topic destinations are skipped with a warning. */
  eventHubs?: { connectionString?: string; namespace?: string };
  /** First webhook retry delay (doubles per attempt). */
  backoffMs?: number;
  /** Environment to read webhook secrets from. */
  env?: NodeJS.ProcessEnv;
}

const destId = (a: Audience, d: Destination) => `${a.name}.${d.name}`;

/** Loads the records of one source relation into temp table d_rows with a 0-based position RN in event-id order. */
async function stage(engine: Engine, sql: string): Promise<number> {
  await engine.run(`CREATE OR REPLACE TEMP TABLE d_rows AS SELECT (row_number() OVER (ORDER BY EVENT_ID)) - 1 AS RN, * FROM (${sql}) ORDER BY EVENT_ID`);
  return Number(await engine.scalar('SELECT count(*) FROM d_rows'));
}

async function rowsOf(engine: Engine, start: number, end: number): Promise<Record<string, unknown>[]> {
  return engine.all(`SELECT * EXCLUDE (RN) FROM d_rows WHERE RN >= ${start} AND RN < ${end} ORDER BY RN`);
}

export function profileEvent(r: Record<string, unknown>): ProfileEvent {
  const e: ProfileEvent = {
    eventId: String(r.CHANGE_ID), type: `profile.${r.CHANGE_TYPE}` as ProfileEvent['type'], customer360Id: String(r.CUSTOMER360_ID),
    batch: Number(r.BATCH), asOf: String(r.AS_OF_DATE), runId: String(r.RUN_ID),
    changedAttributes: r.CHANGED_ATTRIBUTES ? String(r.CHANGED_ATTRIBUTES).split(',') : [],
    changes: JSON.parse(String(r.CHANGES)) as unknown[], profileChecksum: (r.PROFILE_CHECKSUM as string | null) ?? null,
  };
  if (r.CHANGE_TYPE === 'merged' || r.CHANGE_TYPE === 'split') {
    const ids = (v: unknown) => (v ? String(v).split(',') : []);
    const before = ids(r.IDS_BEFORE);
    const after = ids(r.IDS_AFTER);
    e.identity = { before, after, retired: before.filter((x) => !after.includes(x)), created: after.filter((x) => !before.includes(x)) };
  }
  return e;
}

function audienceEvent(a: Audience, r: Record<string, unknown>): AudienceEvent {
  const e: AudienceEvent = {
    eventId: String(r.EVENT_ID), type: (r.EVENT_TYPE === 'triggered' ? 'action.triggered' : `audience.${r.EVENT_TYPE}`) as AudienceEvent['type'], audience: a.name,
    customer360Id: String(r.CUSTOMER360_ID), batch: Number(r.BATCH), asOf: String(r.AS_OF_DATE), runId: String(r.RUN_ID),
  };
  if (r.EVENT_TYPE === 'triggered') Object.assign(e, { action: String(r.ACTION), reason: JSON.parse(String(r.REASON)) as unknown });
  if (r.EVENT_TYPE !== 'exited') e.attributes = Object.fromEntries(a.attributes.map((c) => [c, r[c] ?? null]));
  if (r.MERGED_INTO) e.mergedInto = String(r.MERGED_INTO);
  return e;
}

/** Whether the profile of the as-of date has the consent column (absent: fail closed). */
async function hasColumn(engine: Engine, table: string, column: string): Promise<boolean> {
  return (await engine.all<{ column_name: string }>(`DESCRIBE ${table}`)).some((r) => r.column_name === column);
}

/** SQL of an audience's events of one batch, with the attributes, consent-filtered for marketing destinations. */
async function audienceRowsSql(engine: Engine, lake: Lake, a: Audience, d: Destination, b: CommittedBatch): Promise<{ sql: string; withheld: number }> {
  const consentCol = d.consent ? `CONSENT_${d.consent.toUpperCase()}` : undefined;
  await registerBase(engine, lake, b.asOf, new Set(a.attributes), 'd_base');
  const consentOk = !consentCol ? 'TRUE' : (await hasColumn(engine, 'd_base', consentCol)) ? `COALESCE(b.${ident(consentCol)}, FALSE)` : 'FALSE';
  const attrs = a.attributes.map((c) => `b.${ident(c)}`).join(', ');
  const file = `read_parquet(${lit(await lake.localPath(b.path))})`;
  // Batches committed before audience events had MERGED_INTO have no such column.
  const has = new Set((await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${file}`)).map((r) => r.column_name));
  const mergedInto = ['MERGED_INTO', 'ACTION', 'REASON'].map((c) => (has.has(c) ? `e.${c}` : `CAST(NULL AS VARCHAR) AS ${c}`)).join(', ');
  const from = `FROM ${file} e LEFT JOIN d_base b USING (CUSTOMER360_ID) WHERE e.AUDIENCE = ${lit(a.name)}`;
  const withheld = Number(await engine.scalar(`SELECT count(*) ${from} AND e.EVENT_TYPE <> 'exited' AND NOT (${consentOk})`));
  return { sql: `SELECT e.EVENT_ID, e.EVENT_TYPE, e.CUSTOMER360_ID, e.BATCH, e.AS_OF_DATE, e.RUN_ID, ${mergedInto}${attrs ? `, ${attrs}` : ''} ${from} AND (e.EVENT_TYPE = 'exited' OR ${consentOk})`, withheld };
}

/** Sends staged rows [cursor position, count) of one batch to a topic, each event id once (see topics.ts). */
async function sendToTopic(lake: Lake, topic: TopicClient, id: string, cursor: Cursor, batch: number, count: number, toEvent: (r: Record<string, unknown>) => TopicEvent, engine: Engine): Promise<number> {
  const CHUNK = 2000;
  let skip = new Set<string>();
  if (cursor.pending?.batch === batch) skip = await topic.idsAfter(cursor.pending.sequences);
  const start = cursor.current?.batch === batch ? (cursor.current.done[0]?.[1] ?? 0) : 0;
  let sent = 0;
  for (let s = start; s < count; s += CHUNK) {
    const e = Math.min(s + CHUNK, count);
    const events = (await rowsOf(engine, s, e)).map(toEvent).filter((x) => !skip.has(x.eventId));
    cursor.pending = { batch, range: [s, e], sequences: await topic.sequences() };
    await saveCursor(lake, id, cursor);
    await topic.send(events);
    sent += events.length;
    cursor.current = { batch, done: [[0, e]] };
    delete cursor.pending;
    await saveCursor(lake, id, cursor);
    skip = new Set();
  }
  return sent;
}

async function deadLetterWrite(ctx: JobContext, engine: Engine, id: string, b: CommittedBatch, index: number, row: Record<string, unknown>, payload: object, status: number, reason: string): Promise<string> {
  const path = `${activationDeadLetters.path}/destination=${id.replace(/[^A-Za-z0-9._-]/g, '_')}/batch-${String(b.batch).padStart(8, '0')}-${index}.parquet`;
  const sql = `SELECT ${lit(id)} AS DESTINATION, ${lit(String(row.EVENT_ID))} AS EVENT_ID, ${lit(String(row.CUSTOMER360_ID))} AS CUSTOMER360_ID,
    CAST(${b.batch} AS BIGINT) AS BATCH, CAST(${status} AS INTEGER) AS HTTP_STATUS, ${lit(reason)} AS REASON, ${lit(JSON.stringify(payload))} AS PAYLOAD`;
  await commitQuery(engine, ctx.lake, sql, path, { tmpDir: join(ctx.home, 'tmp', 'activation') });
  return path;
}

async function deliverWebhook(ctx: JobContext, engine: Engine, a: Audience, d: WebhookDestination, b: CommittedBatch, count: number, cursor: Cursor, o: ActivateOptions, r: DeliveryResult) {
  const id = destId(a, d);
  const secret = (o.env ?? process.env)[d.secretEnv];
  if (!secret) throw new UsageError(`${a.file}: webhook ${d.name} signs with the key in environment variable ${d.secretEnv}, which is not set`);
  const done = cursor.current?.batch === b.batch ? cursor.current.done : [];
  const render = async (s: number, e: number) => JSON.stringify({ destination: id, batchId: `${id}-${b.batch}-${s}-${e}`, events: (await rowsOf(engine, s, e)).map((x) => audienceEvent(a, x)) });
  const stats = await deliverWebhookBatch(
    { id, url: d.url, secret, batchSize: d.batchSize, timeoutMs: d.timeoutMs, maxAttempts: d.maxAttempts, backoffMs: o.backoffMs ?? 500 },
    count, render, (s, e) => `${id}-${b.batch}-${s}-${e}`,
    {
      done,
      save: async (ranges) => {
        cursor.current = { batch: b.batch, done: ranges };
        await saveCursor(ctx.lake, id, cursor);
      },
      deadLetter: async (x) => {
        const [row] = await rowsOf(engine, x.index, x.index + 1);
        r.files.push(await deadLetterWrite(ctx, engine, id, b, x.index, row!, audienceEvent(a, row!), x.status, x.reason));
      },
    },
  );
  r.sent += stats.delivered;
  r.deadLettered += stats.deadLettered;
}

async function writeFile(ctx: JobContext, engine: Engine, a: Audience, d: Destination & { type: 'file' }, b: CommittedBatch, logUpTo: string[], r: DeliveryResult) {
  const consentCol = d.consent ? `CONSENT_${d.consent.toUpperCase()}` : undefined;
  await registerBase(engine, ctx.lake, b.asOf, new Set(a.attributes), 'd_base');
  const consentOk = !consentCol ? 'TRUE' : (await hasColumn(engine, 'd_base', consentCol)) ? `COALESCE(b.${ident(consentCol)}, FALSE)` : 'FALSE';
  const members = `SELECT CUSTOMER360_ID FROM read_parquet(${litList(logUpTo)}) WHERE AUDIENCE = ${lit(a.name)} AND EVENT_TYPE IN ('entered', 'exited')
QUALIFY row_number() OVER (PARTITION BY CUSTOMER360_ID ORDER BY BATCH DESC) = 1 AND EVENT_TYPE = 'entered'`;
  const attrs = a.attributes.map((c) => `b.${ident(c)}`).join(', ');
  const sql = `SELECT m.CUSTOMER360_ID${attrs ? `, ${attrs}` : ''} FROM (${members}) m LEFT JOIN d_base b USING (CUSTOMER360_ID) WHERE ${consentOk} ORDER BY m.CUSTOMER360_ID`;
  r.skippedNoConsent += Number(await engine.scalar(`SELECT count(*) FROM (${members}) m LEFT JOIN d_base b USING (CUSTOMER360_ID) WHERE NOT (${consentOk})`));
  const path = `${EXPORTS_ROOT}/${a.name}/${d.name}/as_of_date=${b.asOf}/batch-${String(b.batch).padStart(8, '0')}.${d.format}`;
  const tmpDir = join(ctx.home, 'tmp', 'activation');
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${randomUUID()}.${d.format}`);
  const res = await engine.all<{ Count?: string | number }>(`COPY (${sql}) TO ${lit(tmp)} (${d.format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet, COMPRESSION zstd'})`);
  await ctx.lake.putFile(tmp, path);
  r.sent += Number(res[0]?.Count ?? 0);
  r.files.push(path);
}

/**
 * Delivers every committed batch after each destination's cursor. Destinations fail independently: the others go on,
 * and the first failure is thrown at the end (transient when every failure was).
 */
export async function activate(ctx: JobContext, engine: Engine, audiences: readonly Audience[], o: ActivateOptions = {}): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = [];
  const failures: Error[] = [];
  const topics = new Map<string, TopicClient>();
  const topic = async (hub: string): Promise<TopicClient | undefined> => {
    if (!o.eventHubs?.connectionString && !o.eventHubs?.namespace) return undefined;
    if (!topics.has(hub)) topics.set(hub, await openTopic({ hub, ...o.eventHubs }));
    return topics.get(hub);
  };
  const changeBatches = await committedBatches(ctx.lake, profileChanges.path);
  const eventBatches = await committedBatches(ctx.lake, audienceEvents.path);
  const eventFiles = await Promise.all(eventBatches.map((b) => ctx.lake.localPath(b.path)));
  if (o.audience && !audiences.some((a) => a.name === o.audience)) {
    throw new UsageError(`No audience named '${o.audience}'; audiences: ${audiences.map((a) => a.name).join(', ') || '(none)'}`);
  }
  try {
    // The profile change feed on c360-updated-profiles.
    if (!o.audience) {
      const id = `topic.${PROFILE_TOPIC}`;
      const r: DeliveryResult = { destination: id, type: 'topic', batches: [], sent: 0, deadLettered: 0, skippedNoConsent: 0, files: [] };
      results.push(r);
      try {
        const cursor = await readCursor(ctx.lake, id);
        const todo = changeBatches.filter((b) => b.batch > cursor.batch);
        const client = o.dryRun ? undefined : await topic(PROFILE_TOPIC);
        if (!client && !o.dryRun) {
          if (todo.length) ctx.log.warn('no Event Hubs connection: profile changes not published', { topic: PROFILE_TOPIC, batches: todo.length });
        } else {
          for (const b of todo) {
            const n = await stage(engine, `SELECT *, CHANGE_ID AS EVENT_ID FROM read_parquet(${lit(await ctx.lake.localPath(b.path))})`);
            r.batches.push(b.batch);
            if (o.dryRun) { r.sent += n; continue; }
            r.sent += await sendToTopic(ctx.lake, client!, id, cursor, b.batch, n, (x) => { const ev = profileEvent(x); return { eventId: ev.eventId, customer360Id: ev.customer360Id, body: ev }; }, engine);
            Object.assign(cursor, { batch: b.batch });
            delete cursor.current;
            await saveCursor(ctx.lake, id, cursor);
          }
        }
      } catch (e) {
        r.error = (e as Error).message;
        failures.push(e as Error);
      }
    }
    for (const a of audiences) {
      if (o.audience && a.name !== o.audience) continue;
      for (const d of a.destinations) {
        const id = destId(a, d);
        const r: DeliveryResult = { destination: id, type: d.type, batches: [], sent: 0, deadLettered: 0, skippedNoConsent: 0, files: [] };
        results.push(r);
        try {
          const cursor = await readCursor(ctx.lake, id);
          const todo = eventBatches.filter((b) => b.batch > cursor.batch);
          const client = d.type === 'topic' && !o.dryRun ? await topic(ACTIVATION_TOPIC) : undefined;
          if (d.type === 'topic' && !client && !o.dryRun) {
            if (todo.length) ctx.log.warn('no Event Hubs connection: audience events not published', { destination: id, topic: ACTIVATION_TOPIC });
            continue;
          }
          for (const b of todo) {
            r.batches.push(b.batch);
            if (d.type === 'file') {
              // Only batches in which the audience changed get a file (plus its first batch, so an export exists).
              const changed = Number(await engine.scalar(`SELECT count(*) FROM read_parquet(${lit(await ctx.lake.localPath(b.path))}) WHERE AUDIENCE = ${lit(a.name)}`));
              if (changed > 0 || cursor.batch === 0) {
                if (!o.dryRun) await writeFile(ctx, engine, a, d, b, eventFiles.slice(0, eventBatches.indexOf(b) + 1), r);
              }
            } else {
              const { sql, withheld } = await audienceRowsSql(engine, ctx.lake, a, d, b);
              r.skippedNoConsent += withheld;
              const n = await stage(engine, sql);
              if (o.dryRun) { r.sent += n; continue; }
              if (d.type === 'webhook') await deliverWebhook(ctx, engine, a, d, b, n, cursor, o, r);
              else r.sent += await sendToTopic(ctx.lake, client!, id, cursor, b.batch, n, (x) => { const ev = audienceEvent(a, x); return { eventId: ev.eventId, customer360Id: ev.customer360Id, body: ev }; }, engine);
            }
            if (o.dryRun) continue;
            cursor.batch = b.batch;
            delete cursor.current;
            delete cursor.pending;
            await saveCursor(ctx.lake, id, cursor);
          }
        } catch (e) {
          r.error = (e as Error).message;
          failures.push(e as Error);
        }
      }
    }
  } finally {
    for (const t of topics.values()) await t.close();
  }
  if (failures.length) {
    const first = failures[0]!;
    const msg = `${failures.length} destination(s) failed; first: ${first.message}`;
    throw failures.every(isTransient) ? new C360Error(msg, { transient: true, cause: first }) : first instanceof UsageError ? first : new C360Error(msg, { cause: first });
  }
  return results;
}
