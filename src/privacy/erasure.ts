// `c360 forget`: erase people from every place the platform holds data about them, and prove it.
//
//   1. resolve: each subject (c360 / source record / e-mail / phone) -> people (CUSTOMER360_IDs) through the identity
//      crosswalk, then every value identifying their rows: source customer ids, e-mails and phones of their records
//      (only values no other person's record shares), their transaction, session and ticket ids, anonymous ids linked
//      to them, and the record hashes of their Bronze and quarantine rows (the Bronze dedup index holds those);
//   2. journal: the values and the plan go to a pending journal (lake _privacy/pending/, deleted at the end) before
//      anything is changed, so a crash at any point leaves a state the next `c360 forget` continues from;
//   3. erase: every Parquet file of the lake whose rows match is rewritten without them (copy-on-write: the new file
//      is complete and committed by an atomic replace, so readers see the old or the new version, never a mix), the
//      local warehouse's tables in one transaction, stream spool lines, cached copies of rewritten files; a Snowflake
//      DELETE plan (hashed ids only) is generated for the cloud warehouse;
//   4. verify: the same match queries over every object find zero rows; the receipt (hashed identifiers only, per
//      object: path, rows removed, checksums before and after; the verification queries and their zero hits) goes to
//      the PII-free audit folder _audit/privacy/erasure/, and the erased identifiers (hashed) to the suppression list.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Engine, ident, lit } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { UsageError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import { owned } from '../runtime/tmp.ts';
import { WAREHOUSE_TABLES } from '../warehouse/model.ts';
import { SUPPRESSION_DIR } from './suppression.ts';
import { GRAPH_FILE } from '../identity/graph.ts';
import { GRAPH_STATE, readGraphState } from '../silver/identity-graph-lake.ts';
import { eraseGraphFolder, eraseLakeGraph, folderGraphHits, lakeGraphHits, type GraphObject } from './identity-graph.ts';
import { hashIdentifier, sha256, type Subject, type ValueKind } from './identifiers.ts';

export const AUDIT_DIR = '_audit/privacy/erasure';
export const PENDING_DIR = '_privacy/pending';
export const SNOWFLAKE_PLAN_DIR = '_audit/privacy/snowflake';

/** Lake folders never scanned for rows: the audit trail, the privacy state, run manifests. */
const SKIP_PREFIXES = ['_audit/', '_privacy/', '_runs/'];

/** Which identifier kinds a column holds (matching is on lower-cased text). */
export const COLUMN_KINDS: Record<string, readonly ValueKind[]> = {
  CUSTOMER360_ID: ['c360'], RETIRED_ID: ['c360'], SURVIVOR_ID: ['c360'],
  CUSTOMER_ID: ['customer'], CUSTOMER_ID_L: ['customer'], CUSTOMER_ID_R: ['customer'],
  EMAIL_ADDRESS: ['email'], EMAIL_NORMALIZED: ['email'], EMAIL_MATCH_KEY: ['email'],
  PHONE_NUMBER: ['phone'], PHONE_E164: ['phone'],
  TRANSACTION_ID: ['transaction'], SESSION_ID: ['session'], TICKET_ID: ['ticket'],
  ANONYMOUS_ID: ['anonymous'], LINKED_ID: ['customer', 'email', 'phone', 'anonymous'],
  _record_hash: ['hash'],
};

/** List columns holding identifiers (identity change events): kinds, and how an element yields the value. */
export const LIST_COLUMN_KINDS: Record<string, { kinds: readonly ValueKind[]; element?: string }> = {
  IDS_BEFORE: { kinds: ['c360'] },
  IDS_AFTER: { kinds: ['c360'] },
  // SOURCE_SYSTEM:CUSTOMER_ID
  RECORDS: { kinds: ['customer'], element: "regexp_replace(x, '^[^:]*:', '')" },
};

/**
 * Datasets that keep their counts: aggregates with no person column cannot identify anyone once the person's rows are
 * gone from the facts; they are recomputed from the erased Silver by the next run.
 */
export const AGGREGATES_KEPT: Record<string, string> = {
  service_summary: 'ticket counts per category and priority: no person column',
  agg_touchpoint_activity: 'touches and distinct customers per touchpoint and period: counts only',
  agg_funnel_daily: 'viewers, cart adders and purchasers per day: counts only',
  campaign_channel_performance: 'campaign totals per channel: counts and rates only',
  campaign_roi: 'campaign spend, conversions and revenue totals: no person column',
  dim_touchpoint: 'touchpoint totals: counts only',
  dim_product: 'product sales statistics: no person column',
  dim_content: 'content views and purchases: counts only',
  dim_recommendation: 'recommendation run statistics: counts only',
  segment_profiles: 'segment averages over many people: no person column',
  model_registry: 'model versions and aggregate metrics: no person column',
};

export type Values = Partial<Record<ValueKind, string[]>>;

interface ObjectEntry {
  store: 'lake' | 'warehouse' | 'spool' | 'cache' | 'graph';
  path: string;
  rowsBefore: number;
  rowsRemoved: number;
  rowsAfter?: number;
  checksumBefore: string;
  checksumAfter?: string;
  action: 'rewritten' | 'deleted' | 'rows-deleted';
  done: boolean;
}

interface Journal {
  requestId: string;
  requestedAt: string;
  reason?: string;
  subjects: Subject[];
  people: string[];
  values: Values;
  objects: Record<string, ObjectEntry>;
  resumes: number;
  /**
   * Lake files (beside the journal) holding the record hashes collected so far, one per Bronze or quarantine file
   * that gave some: the journal stays small (it is saved before every commit), each file is written once.
   */
  hashFiles?: string[];
}

export interface Receipt {
  receiptVersion: 1;
  requestId: string;
  requestedAt: string;
  completedAt: string;
  reason?: string;
  /** Times the erasure was continued after an interruption. */
  resumed: number;
  subjects: Array<{ kind: string; hash: string }>;
  people: string[];
  identifiers: Record<string, number>;
  objects: Array<Omit<ObjectEntry, 'done'>>;
  verification: Array<{ store: string; object: string; query: string; hits: number }>;
  snowflakePlan: { path: string; statements: number; checksum: string };
  aggregatesKept: Array<{ dataset: string; why: string }>;
  suppression: { path: string; entries: number };
}

export interface ForgetOptions {
  home: string;
  lake: Lake;
  log: Logger;
  subjects: Subject[];
  reason?: string;
  /** Identity graph folders outside the lake to erase from too (c360 resolve --incremental --state DIR). */
  identityState?: readonly string[];
  /** Test hook: SIGKILL this process after this many objects were committed. */
  crashAfterObjects?: number;
}

const pendingPath = (id: string) => `${PENDING_DIR}/${id}.json`;
/** The resolved values, written once beside the journal (which is saved before every commit and stays small). */
const valuesPath = (id: string) => `${PENDING_DIR}/${id}.values.json`;
/** Where the record hashes found in one lake file go (deterministic: a re-run after a crash overwrites it). */
const hashFilePath = (id: string, path: string) => `${PENDING_DIR}/${id}.hashes-${sha256(path).slice(0, 16)}.parquet`;
const receiptPath = (id: string) => `${AUDIT_DIR}/${id}.json`;

/** Request id: the subjects' hash, so the same request re-run after a crash continues its own journal. */
export function requestIdOf(subjects: readonly Subject[], reason?: string): string {
  const key = subjects.map((s) => `${s.kind}:${s.value}`).sort().join('\n') + `\n${reason ?? ''}`;
  return `erasure-${sha256(key).slice(0, 16)}`;
}

/** Erases the subjects (or continues an interrupted erasure of them) and returns the receipt. */
export async function forget(o: ForgetOptions): Promise<Receipt> {
  if (o.subjects.length === 0) throw new UsageError('No subject to forget');
  const requestId = requestIdOf(o.subjects, o.reason);
  const tmpDir = join(o.home, 'tmp', 'privacy', owned(randomUUID()));
  await mkdir(tmpDir, { recursive: true });
  const engine = await Engine.open();
  const phase = phaseTimer(o.log);
  try {
    let journal: Journal;
    if ((await o.lake.exists(pendingPath(requestId))) && (await o.lake.exists(receiptPath(requestId)))) {
      // Interrupted after this very erasure's receipt was written: only the clean-up was left.
      const pending = JSON.parse((await o.lake.read(pendingPath(requestId))).toString('utf8')) as Journal;
      const written = JSON.parse((await o.lake.read(receiptPath(requestId))).toString('utf8')) as Receipt;
      if (written.requestedAt === pending.requestedAt) {
        await cleanUp(o.lake, pending);
        return written;
      }
    }
    if (await o.lake.exists(pendingPath(requestId))) {
      journal = JSON.parse((await o.lake.read(pendingPath(requestId))).toString('utf8')) as Journal;
      journal.values ??= JSON.parse((await o.lake.read(valuesPath(requestId))).toString('utf8')) as Values;
      journal.resumes++;
      o.log.info('continuing an interrupted erasure', { requestId, objectsDone: Object.values(journal.objects).filter((x) => x.done).length });
    } else {
      const resolved = await resolveSubjects(engine, o.lake, o.subjects);
      phase('resolve');
      journal = { requestId, requestedAt: new Date().toISOString(), reason: o.reason, subjects: o.subjects, people: resolved.people, values: resolved.values, objects: {}, resumes: 0 };
      o.log.info('erasure planned', { requestId, people: resolved.people.length, identifiers: countValues(resolved.values) });
      await o.lake.write(valuesPath(requestId), JSON.stringify(resolved.values));
    }
    await saveJournal(o.lake, journal);
    await loadValues(engine, journal.values);
    for (const f of journal.hashFiles ?? []) await engine.run(`INSERT INTO erase_values SELECT h, 'hash' FROM read_parquet(${lit(await o.lake.localPath(f))})`);
    phase('journal');
    const committed = { n: 0 };
    const afterCommit = async (save = true) => {
      if (save) await saveJournal(o.lake, journal);
      committed.n++;
      if (o.crashAfterObjects !== undefined && committed.n >= o.crashAfterObjects) process.kill(process.pid, 'SIGKILL');
    };
    const { rewritten, checks, spent } = await eraseLake(engine, o.lake, journal, tmpDir, afterCommit);
    for (const [name, ms] of Object.entries(spent)) o.log.debug('erasure phase', { phase: `lake ${name}`, ms });
    phase('lake');
    const lakeGraphVerified = await eraseGraphs(engine, o, journal, tmpDir, afterCommit);
    phase('identity graph');
    await eraseWarehouse(engine, o.home, journal, afterCommit, (j) => saveJournal(o.lake, j));
    await eraseSpool(o.home, journal, afterCommit);
    await eraseCaches(o.home, rewritten, journal, afterCommit);
    phase('warehouse, spool, caches');
    const verification = await verify(engine, o.home, checks);
    // The lake graph is verified on the erased copy before its commit; read back only when a previous run did that.
    const lakeGraph = lakeGraphVerified ?? (await lakeGraphHits(engine, o.lake, tmpDir));
    if (lakeGraph !== undefined) verification.push({ store: 'graph', object: GRAPH_STATE, query: 'rows of the current graph naming them (records, raw, edges, retired, changes, overrides)', hits: lakeGraph });
    for (const dir of o.identityState ?? []) {
      const file = join(resolve(dir), GRAPH_FILE);
      if (existsSync(file)) verification.push({ store: 'graph', object: file, query: 'rows of the graph naming them (records, raw, edges, retired, changes, overrides)', hits: await folderGraphHits(engine, file) });
    }
    phase('verify');
    const bad = verification.filter((v) => v.hits > 0);
    if (bad.length) throw new Error(`Erasure ${requestId}: rows remain in ${bad.map((b) => b.object).join(', ')}; the journal is kept, re-run to continue`);
    const plan = snowflakePlan(journal);
    const planFile = `${SNOWFLAKE_PLAN_DIR}/${requestId}.sql`;
    await o.lake.write(planFile, plan.sql);
    const suppression = await writeSuppression(engine, o.lake, journal, tmpDir);
    const receipt: Receipt = {
      receiptVersion: 1,
      requestId,
      requestedAt: journal.requestedAt,
      completedAt: new Date().toISOString(),
      ...(journal.reason ? { reason: journal.reason } : {}),
      resumed: journal.resumes,
      subjects: journal.subjects.map((s) => ({ kind: s.kind, hash: hashIdentifier(s.kind, s.value) })),
      people: journal.people.map((p) => hashIdentifier('c360', p)).sort(),
      identifiers: { ...countValues(journal.values), hash: Number(await engine.scalar("SELECT count(DISTINCT v) FROM erase_values WHERE kind = 'hash'")) },
      objects: Object.values(journal.objects).sort((a, b) => (a.store + a.path).localeCompare(b.store + b.path)).map(({ done: _d, ...rest }) => rest),
      verification,
      snowflakePlan: { path: planFile, statements: plan.statements, checksum: sha256(plan.sql) },
      aggregatesKept: Object.entries(AGGREGATES_KEPT).map(([dataset, why]) => ({ dataset, why })),
      suppression,
    };
    await o.lake.write(receiptPath(requestId), JSON.stringify(receipt, null, 2));
    // The journal holds the clear identifiers: gone once the receipt is written (the hash files after it: no PII).
    await cleanUp(o.lake, journal);
    phase('receipt, suppression, plan');
    o.log.info('erasure complete', { requestId, objects: receipt.objects.length, rowsRemoved: receipt.objects.reduce((s, x) => s + x.rowsRemoved, 0) });
    return receipt;
  } finally {
    engine.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** Logs (debug) the time since the previous call, per phase: where an erasure spends its time. */
function phaseTimer(log: Logger): (name: string) => void {
  let last = Date.now();
  return (name) => {
    const now = Date.now();
    log.debug('erasure phase', { phase: name, ms: now - last });
    last = now;
  };
}

function countValues(v: Values): Record<string, number> {
  return Object.fromEntries(Object.entries(v).map(([k, list]) => [k, list?.length ?? 0]));
}

/** The pending files go once the receipt is written, the journal last (it is what a re-run looks for). */
async function cleanUp(lake: Lake, j: Pick<Journal, 'requestId' | 'hashFiles'>): Promise<void> {
  await lake.delete(valuesPath(j.requestId));
  for (const f of j.hashFiles ?? []) await lake.delete(f);
  await lake.delete(pendingPath(j.requestId));
}

async function saveJournal(lake: Lake, j: Journal): Promise<void> {
  const { values: _values, ...rest } = j;
  await lake.write(pendingPath(j.requestId), JSON.stringify(rest));
}

/** The identifier values as temp table erase_values(v, kind), v lower-cased. */
export async function loadValues(engine: Engine, values: Values): Promise<void> {
  await engine.run('CREATE OR REPLACE TEMP TABLE erase_values (v VARCHAR, kind VARCHAR)');
  const rows = Object.entries(values).flatMap(([kind, list]) => (list ?? []).map((v) => `(${lit(v.toLowerCase())}, ${lit(kind)})`));
  for (let i = 0; i < rows.length; i += 1000) await engine.run(`INSERT INTO erase_values VALUES ${rows.slice(i, i + 1000).join(', ')}`);
}

/**
 * Columns holding a record's original text as received (quarantine: `_source_record`, and the exact bytes of a record
 * not in UTF-8, `_source_bytes`; the identity stream's refused events in the graph, `stream_quarantine.BODY`): a
 * malformed record has no parsed columns to match, so its text is searched.
 */
export const TEXT_COLUMNS: readonly string[] = ['_source_record', '_source_bytes', 'BODY'];

/** Characters of an id-like token in original text: an identifier value made of them is matched as a whole token. */
const TOKEN = '[a-z0-9._%+@_-]+';

/**
 * Whether original text names one of the values: as a whole token (ids, e-mails: no substring of a longer id), a
 * phone by its digits (written with spaces, dashes or brackets), any other value (a rare one with other characters)
 * as a substring. The token lists are built once per query (uncorrelated subqueries).
 */
function textPredicate(expr: string): string {
  const text = `lower(${expr})`;
  const notHash = "kind <> 'hash'";
  return `(list_has_any(regexp_extract_all(${text}, '${TOKEN}'), (SELECT coalesce(list(v), []) FROM erase_values WHERE ${notHash} AND regexp_full_match(v, '${TOKEN}')))
    OR list_has_any(list_transform(regexp_extract_all(${text}, '[0-9][0-9 ().-]{5,}[0-9]'), x -> regexp_replace(x, '[^0-9]', '', 'g')), (SELECT coalesce(list(v), []) FROM erase_values WHERE kind = 'phone' AND regexp_full_match(v, '[0-9]{7,}')))
    OR EXISTS (SELECT 1 FROM erase_values WHERE ${notHash} AND kind <> 'phone' AND length(v) >= 4 AND NOT regexp_full_match(v, '${TOKEN}') AND contains(${text}, v)))`;
}

/** The match predicate over the given columns (name -> DuckDB type), or undefined when none identifies a person. */
export function matchPredicate(columns: ReadonlyMap<string, string>, skip: readonly string[] = []): string | undefined {
  const parts: string[] = [];
  for (const [name, type] of columns) {
    if (TEXT_COLUMNS.includes(name) && !skip.includes(name) && (type === 'VARCHAR' || type === 'BLOB')) {
      parts.push(textPredicate(type === 'BLOB' ? `CAST(${ident(name)} AS VARCHAR)` : ident(name)));
      continue;
    }
    const list = LIST_COLUMN_KINDS[name];
    if (list && !skip.includes(name) && type.endsWith('[]')) {
      const elem = list.element ?? 'x';
      parts.push(`list_has_any(list_transform(CAST(${ident(name)} AS VARCHAR[]), x -> lower(${elem})), (SELECT coalesce(list(v), []) FROM erase_values WHERE kind IN (${list.kinds.map(lit).join(', ')})))`);
      continue;
    }
    const kinds = skip.includes(name) ? undefined : COLUMN_KINDS[name];
    if (!kinds || type.endsWith('[]') || type.startsWith('STRUCT') || type.startsWith('MAP')) continue;
    parts.push(`lower(CAST(${ident(name)} AS VARCHAR)) IN (SELECT v FROM erase_values WHERE kind IN (${kinds.map(lit).join(', ')}))`);
  }
  return parts.length ? `COALESCE((${parts.join(' OR ')}), false)` : undefined;
}

export async function columnsOf(engine: Engine, relation: string): Promise<Map<string, string>> {
  const rows = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${relation}`);
  return new Map(rows.map((r) => [r.column_name, r.column_type]));
}

export const parquet = (files: readonly string[], extra = '') => `read_parquet([${files.map(lit).join(', ')}], union_by_name = true, hive_partitioning = false${extra})`;

export async function lakeParquet(lake: Lake): Promise<string[]> {
  return (await lake.list('')).map((f) => f.path).filter((p) => p.endsWith('.parquet') && !SKIP_PREFIXES.some((s) => p.startsWith(s)));
}

/** Lake files of a folder (recursive), for the resolution queries; undefined when there are none. */
async function source(lake: Lake, prefix: string): Promise<string | undefined> {
  const files = (await lake.list(prefix)).map((f) => f.path).filter((p) => p.endsWith('.parquet'));
  if (!files.length) return undefined;
  return parquet(await Promise.all(files.map((f) => lake.localPath(f))));
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Resolution

export async function resolveSubjects(engine: Engine, lake: Lake, subjects: readonly Subject[]): Promise<{ people: string[]; values: Values }> {
  const crosswalk = await source(lake, 'silver/customer360/identity/crosswalk');
  const silverCustomers = await source(lake, 'silver/customer360/customers');
  const people = new Set<string>();
  const customers = new Set<string>();
  const q = async (sql: string) => (await engine.all<{ v: string | null }>(sql)).map((r) => r.v).filter((v): v is string => !!v);
  const emailCol = "lower(trim(CAST(EMAIL_ADDRESS AS VARCHAR)))";
  const phoneCol = "regexp_replace(CAST(PHONE_NUMBER AS VARCHAR), '[^0-9]', '', 'g')";
  for (const s of subjects) {
    const found = new Set<string>();
    let records: string[] = [];
    if (s.kind === 'c360') found.add(s.value);
    else if (s.kind === 'source') {
      const [system, id] = [s.value.slice(0, s.value.indexOf('/')), s.value.slice(s.value.indexOf('/') + 1)];
      records = [id];
      if (crosswalk) for (const v of await q(`SELECT DISTINCT CUSTOMER360_ID AS v FROM ${crosswalk} WHERE SOURCE_SYSTEM = ${lit(system)} AND CUSTOMER_ID = ${lit(id)}`)) found.add(v);
    } else if (silverCustomers) {
      const where = s.kind === 'email' ? `${emailCol} = ${lit(s.value)} OR lower(CAST(EMAIL_NORMALIZED AS VARCHAR)) = ${lit(s.value)}` : `${phoneCol} = ${lit(s.value)} OR regexp_replace(CAST(PHONE_E164 AS VARCHAR), '[^0-9]', '', 'g') = ${lit(s.value)}`;
      for (const v of await q(`SELECT DISTINCT CUSTOMER360_ID AS v FROM ${silverCustomers} WHERE ${where}`)) found.add(v);
      records = await q(`SELECT DISTINCT CUSTOMER_ID AS v FROM ${silverCustomers} WHERE ${where}`);
    }
    if (found.size > 1 && s.kind !== 'c360') {
      throw new UsageError(`${s.kind} subject matches ${found.size} different people: erase them by c360:<CUSTOMER360_ID> (see c360 subject-export)`);
    }
    if (found.size === 0 && records.length === 0) throw new UsageError(`No person found for ${s.kind}:${s.kind === 'email' || s.kind === 'phone' ? '<given value>' : s.value}`);
    for (const p of found) people.add(p);
    for (const r of records) customers.add(r);
  }
  // Ids retired into these people (merges) identify them too.
  const retired = await source(lake, 'silver/customer360/identity/retired_ids');
  if (retired && people.size) for (const v of await q(`SELECT DISTINCT RETIRED_ID AS v FROM ${retired} WHERE SURVIVOR_ID IN (${[...people].map(lit).join(', ')})`)) people.add(v);
  const c360 = [...people].sort();
  if (crosswalk && c360.length) for (const v of await q(`SELECT DISTINCT CUSTOMER_ID AS v FROM ${crosswalk} WHERE CUSTOMER360_ID IN (${c360.map(lit).join(', ')})`)) customers.add(v);
  if (silverCustomers && c360.length) for (const v of await q(`SELECT DISTINCT CUSTOMER_ID AS v FROM ${silverCustomers} WHERE CUSTOMER360_ID IN (${c360.map(lit).join(', ')})`)) customers.add(v);
  const ids = [...customers].sort();
  const inIds = ids.length ? `CUSTOMER_ID IN (${ids.map(lit).join(', ')})` : 'false';

  // E-mails and phones of their customer records in every layer, kept only when no other person's record has them
  // (a shared or placeholder value would erase someone else's rows).
  const emails = new Set<string>(subjects.filter((s) => s.kind === 'email').map((s) => s.value));
  const phones = new Set<string>(subjects.filter((s) => s.kind === 'phone').map((s) => s.value));
  const customerDirs = ['bronze/customer360/customers', 'quarantine/customer360/customers', 'silver/customer360/customers', 'silver/customer360/_staging/customers'];
  const allCustomers: string[] = [];
  for (const dir of customerDirs) {
    const src = await source(lake, dir);
    if (!src) continue;
    const cols = await columnsOf(engine, `(SELECT * FROM ${src})`);
    const pick = (c: string) => (cols.has(c) ? `CAST(${c} AS VARCHAR)` : 'CAST(NULL AS VARCHAR)');
    allCustomers.push(`SELECT CAST(CUSTOMER_ID AS VARCHAR) AS CUSTOMER_ID, ${pick('EMAIL_ADDRESS')} AS e1, ${pick('EMAIL_NORMALIZED')} AS e2, ${pick('EMAIL_MATCH_KEY')} AS e3, ${pick('PHONE_NUMBER')} AS p1, ${pick('PHONE_E164')} AS p2 FROM ${src}`);
  }
  if (allCustomers.length) {
    // Long form (id, kind, value) and the person's ids as a table: two hash joins instead of literal IN lists.
    await engine.run(`CREATE OR REPLACE TEMP TABLE erase_contacts AS
      SELECT CUSTOMER_ID, kind, lower(trim(v)) AS v FROM (
        SELECT CUSTOMER_ID, 'email' AS kind, unnest([e1, e2, e3]) AS v FROM (${allCustomers.join(' UNION ALL ')})
        UNION ALL SELECT CUSTOMER_ID, 'phone', unnest([p1, p2]) FROM (${allCustomers.join(' UNION ALL ')})
      ) WHERE v IS NOT NULL AND length(trim(v)) > 0`);
    await engine.run('CREATE OR REPLACE TEMP TABLE erase_ids (id VARCHAR)');
    for (let i = 0; i < ids.length; i += 1000) await engine.run(`INSERT INTO erase_ids VALUES ${ids.slice(i, i + 1000).map((x) => `(${lit(x)})`).join(', ')}`);
    await engine.run(`CREATE OR REPLACE TEMP TABLE erase_given (kind VARCHAR, v VARCHAR)`);
    const given = [...[...emails].map((v) => ['email', v]), ...[...phones].map((v) => ['phone', v])];
    for (let i = 0; i < given.length; i += 1000) await engine.run(`INSERT INTO erase_given VALUES ${given.slice(i, i + 1000).map(([k, v]) => `(${lit(k!)}, ${lit(v!)})`).join(', ')}`);
    const rows = await engine.all<{ kind: string; v: string }>(`
      WITH mine AS (
        SELECT DISTINCT kind, v FROM erase_contacts WHERE CUSTOMER_ID IN (SELECT id FROM erase_ids)
        UNION SELECT kind, v FROM erase_given
      )
      SELECT kind, v FROM mine WHERE (kind, v) NOT IN (SELECT kind, v FROM erase_contacts WHERE CUSTOMER_ID NOT IN (SELECT id FROM erase_ids))`);
    emails.clear();
    phones.clear();
    for (const r of rows) (r.kind === 'email' ? emails : phones).add(r.v);
  }
  // Also phones by their digits, as some sources write them differently.
  for (const p of [...phones]) if (/\D/.test(p)) phones.add(p.replace(/\D/g, ''));

  // Rows that hang off their records without a customer column.
  const dependent = async (dir: string, col: string) => {
    const out = new Set<string>();
    for (const layer of ['bronze', 'quarantine', 'silver']) {
      const src = await source(lake, `${layer}/customer360/${dir}`);
      if (!src || !ids.length) continue;
      const cols = await columnsOf(engine, `(SELECT * FROM ${src})`);
      if (!cols.has(col) || !cols.has('CUSTOMER_ID')) continue;
      for (const v of await q(`SELECT DISTINCT CAST(${col} AS VARCHAR) AS v FROM ${src} WHERE ${inIds}`)) out.add(v);
    }
    return [...out].sort();
  };
  const values: Values = {
    c360,
    customer: ids,
    email: [...emails].sort(),
    phone: [...phones].sort(),
    transaction: await dependent('transactions', 'TRANSACTION_ID'),
    session: await dependent('sessions', 'SESSION_ID'),
    ticket: await dependent('tickets', 'TICKET_ID'),
    anonymous: [],
  };
  const links = await source(lake, 'silver/customer360/identity_links');
  if (links && ids.length) {
    values.anonymous = await q(`SELECT DISTINCT CAST(LINKED_ID AS VARCHAR) AS v FROM ${links} WHERE ${inIds} AND upper(CAST(LINKED_ID_TYPE AS VARCHAR)) LIKE '%ANONYMOUS%'`);
  }
  // Record hashes of their Bronze and quarantine rows (the Bronze dedup index holds them) are collected by the
  // erasure's own scan of those files (eraseLake), not by a pass of their own.
  values.hash = [];
  return { people: c360, values };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Erasure

async function fileChecksum(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** Bronze and quarantine data files: their rows' record hashes are what the Bronze dedup index holds. */
const hashSource = (path: string) => /^(bronze|quarantine)\//.test(path) && !path.startsWith('bronze/_index/');

/** What the erasure's scans established per lake folder: the predicate used and the rows left matching it (0). */
export type LakeChecks = Map<string, { query: string; hits: number }>;

/**
 * Rewrites every lake Parquet file holding matching rows; returns the rewritten lake paths and, per folder, what the
 * scans found left. One scan of a file's identifier columns decides (and, for Bronze and quarantine, collects the
 * record hashes of the person's rows, so the dedup index files, processed last, lose them too); a file with matches
 * is then rewritten once, its old version hashed while the rewrite runs, and the rewrite's own row count must equal
 * the rows kept: the new file holds no match by construction (`WHERE NOT` the same predicate), so no second scan.
 */
async function eraseLake(engine: Engine, lake: Lake, j: Journal, tmpDir: string, afterCommit: (save?: boolean) => Promise<void>): Promise<{ rewritten: string[]; checks: LakeChecks; spent: Record<string, number> }> {
  const spent: Record<string, number> = { list: 0, describe: 0, scan: 0, rewrite: 0, journal: 0, commit: 0 };
  let mark = Date.now();
  const tick = (name: string) => {
    const now = Date.now();
    spent[name] = (spent[name] ?? 0) + now - mark;
    mark = now;
  };
  const rewritten: string[] = [];
  const checks: LakeChecks = new Map();
  const all = await lakeParquet(lake);
  // The index files match on record hashes only: after every data file has given its hashes.
  const ordered = [...all.filter((p) => !p.startsWith('bronze/_index/')), ...all.filter((p) => p.startsWith('bronze/_index/'))];
  tick('list');
  // One scan per folder (every file's identifier columns, counted per file): a few larger queries instead of one per
  // file. Run when the loop reaches the folder, so the index folders, last, match on every data file's hashes.
  const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
  const scans = new Map<string, Map<string, { hits: number; total: number }>>();
  const scanFolder = async (dir: string) => {
    const out = new Map<string, { hits: number; total: number }>();
    const files = await Promise.all(ordered.filter((p) => dirOf(p) === dir && !j.objects[`lake:${p}`]?.done).map((p) => lake.localPath(p)));
    if (!files.length) return out;
    const rel = parquet(files, ", filename = 'erase_file'");
    const cols = await columnsOf(engine, `(SELECT * FROM ${rel})`);
    cols.delete('erase_file');
    const collect = hashSource(`${dir}/`) && cols.has('_record_hash');
    const pred = matchPredicate(cols, collect ? ['_record_hash'] : []);
    if (!pred) return out;
    const totals = await engine.all<{ f: string; n: unknown }>(`SELECT file_name AS f, sum(num_rows) AS n FROM parquet_file_metadata([${files.map(lit).join(', ')}]) GROUP BY 1`);
    for (const t of totals) out.set(t.f, { hits: 0, total: Number(t.n) });
    // Bronze and quarantine: the matching rows' record hashes, kept in DuckDB (no round trip through JS).
    const found = collect
      ? `CREATE OR REPLACE TEMP TABLE erase_found_dir AS SELECT erase_file AS f, lower(CAST(_record_hash AS VARCHAR)) AS h FROM ${rel} WHERE ${pred}`
      : `CREATE OR REPLACE TEMP TABLE erase_found_dir AS SELECT erase_file AS f, NULL::VARCHAR AS h FROM ${rel} WHERE ${pred}`;
    await engine.run(found);
    for (const r of await engine.all<{ f: string; n: unknown }>('SELECT f, count(*) AS n FROM erase_found_dir GROUP BY 1')) out.get(r.f)!.hits = Number(r.n);
    return out;
  };
  for (const path of ordered) {
    const key = `lake:${path}`;
    const prior = j.objects[key];
    const dir = path.slice(0, path.lastIndexOf('/'));
    if (prior?.done) {
      rewritten.push(path);
      continue;
    }
    const local = await lake.localPath(path);
    if (!scans.has(dir)) scans.set(dir, await scanFolder(dir));
    tick('scan');
    const scanned = scans.get(dir)!.get(local);
    // No identifier column, or no row: nothing to erase, nothing to check.
    if (!scanned) continue;
    const { hits, total } = scanned;
    if (!prior && hits === 0) {
      if (!checks.has(dir)) {
        const cols = await columnsOf(engine, `(SELECT * FROM ${parquet([local])})`);
        const pred = matchPredicate(cols, hashSource(path) && cols.has('_record_hash') ? ['_record_hash'] : []);
        if (pred) checks.set(dir, { query: `SELECT count(*) FROM read_parquet('${dir}/*.parquet') WHERE ${pred}`, hits: 0 });
        tick('describe');
      }
      continue;
    }
    const rel = parquet([local]);
    const cols = await columnsOf(engine, `(SELECT * FROM ${rel})`);
    const collect = hashSource(path) && cols.has('_record_hash');
    // In a data file the hash of a matching row is matched by the row's own ids already.
    const pred = matchPredicate(cols, collect ? ['_record_hash'] : [])!;
    if (!checks.has(dir)) checks.set(dir, { query: `SELECT count(*) FROM read_parquet('${dir}/*.parquet') WHERE ${pred}`, hits: 0 });
    tick('describe');
    if (prior && hits === 0) {
      const checksum = await fileChecksum(local);
      if (checksum !== prior.checksumBefore) {
        // Committed before the crash, journal not yet updated: the new version is in place.
        Object.assign(prior, { checksumAfter: checksum, rowsAfter: total, done: true });
        rewritten.push(path);
        await afterCommit();
      }
      continue;
    }
    if (collect && hits > 0) {
      // This file's hashes: to the lake beside the journal (named in it before the commit below), then to the values.
      const hashFile = hashFilePath(j.requestId, path);
      const sidecar = join(tmpDir, `${randomUUID()}.parquet`);
      await engine.run(`CREATE OR REPLACE TEMP TABLE erase_found AS SELECT h FROM erase_found_dir WHERE f = ${lit(local)}`);
      await engine.run(`COPY (SELECT DISTINCT h FROM erase_found WHERE h IS NOT NULL) TO ${lit(sidecar)} (FORMAT parquet)`);
      await lake.putFile(sidecar, hashFile);
      j.hashFiles = [...new Set([...(j.hashFiles ?? []), hashFile])];
      await engine.run("INSERT INTO erase_values SELECT DISTINCT h, 'hash' FROM erase_found WHERE h IS NOT NULL AND h NOT IN (SELECT v FROM erase_values WHERE kind = 'hash')");
      tick('hashes');
    }
    const entry: ObjectEntry = { store: 'lake', path, rowsBefore: total, rowsRemoved: hits, checksumBefore: '', action: 'rewritten', done: false };
    const tmp = join(tmpDir, `${randomUUID()}.parquet`);
    // Same columns and types as the file; zstd like the layers write. The old file's checksum is taken meanwhile.
    const [checksumBefore, copied] = await Promise.all([
      fileChecksum(local),
      engine.all<{ Count?: unknown }>(`COPY (SELECT * FROM ${rel} WHERE NOT ${pred}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`),
    ]);
    const written = Number(copied[0]?.Count);
    if (written !== total - hits) throw new Error(`Erasure of ${path}: the rewrite kept ${written} rows, expected ${total - hits}; nothing committed, re-run`);
    entry.checksumBefore = checksumBefore;
    tick('rewrite');
    // The journal (naming the file's record hashes) is saved before the commit: a crash after it loses nothing.
    j.objects[key] = entry;
    await saveJournal(lake, j);
    tick('journal');
    entry.checksumAfter = await fileChecksum(tmp);
    entry.rowsAfter = written;
    await lake.putFile(tmp, path);
    entry.done = true;
    rewritten.push(path);
    // Not saved now: a re-run recognises the committed file (no match left, checksum changed) and completes the entry.
    await afterCommit(false);
    tick('commit');
  }
  return { rewritten, checks, spent };
}

/**
 * The identity graph in the lake and any graph folder given: the person's records, edges, pointers and events go
 * (src/privacy/identity-graph.ts). The counts are journaled before the new graph is committed; a re-run after a
 * crash finds nothing left and completes the entry.
 */
async function eraseGraphs(engine: Engine, o: ForgetOptions, j: Journal, tmpDir: string, afterCommit: () => Promise<void>): Promise<number | undefined> {
  let verified: number | undefined;
  const pending = (key: string) => async (g: GraphObject) => {
    j.objects[key] = { ...g, done: false };
    await saveJournal(o.lake, j);
  };
  const finish = async (key: string, g: GraphObject | undefined, checksumNow: () => Promise<string | undefined>) => {
    const e = j.objects[key];
    if (g) Object.assign(e!, { checksumAfter: g.checksumAfter, done: true });
    else if (e && !e.done) Object.assign(e, { checksumAfter: (await checksumNow()) ?? '', done: true });
    else return;
    await afterCommit();
  };
  if (!j.objects['graph:lake']?.done) {
    const g = await eraseLakeGraph(engine, o.lake, tmpDir, j.requestId, pending('graph:lake'), (hits) => (verified = hits));
    await finish('graph:lake', g, async () => {
      const s = await readGraphState(o.lake);
      return s ? sha256(await o.lake.read(s.graph)) : undefined;
    });
  }
  for (const dir of o.identityState ?? []) {
    const key = `graph:${resolve(dir)}`;
    if (j.objects[key]?.done) continue;
    const g = await eraseGraphFolder(engine, dir, pending(key));
    await finish(key, g, async () => (existsSync(join(resolve(dir), GRAPH_FILE)) ? fileChecksum(join(resolve(dir), GRAPH_FILE)) : undefined));
  }  return verified;
}

async function tableChecksum(engine: Engine, qualified: string): Promise<string> {
  const v = await engine.scalar(`SELECT CAST(COALESCE(sum(hash(t)::HUGEINT), 0) AS VARCHAR) || ':' || CAST(count(*) AS VARCHAR) FROM ${qualified} t`);
  return sha256(String(v));
}

/**
 * Deletes matching rows from every table of the local warehouse, in one transaction. The counts and checksums before
 * go to the journal first, so an interruption after the commit still yields a complete receipt on the re-run.
 */
async function eraseWarehouse(engine: Engine, home: string, j: Journal, afterCommit: () => Promise<void>, saveJournalHook: (j: Journal) => Promise<void>): Promise<void> {
  const file = join(home, 'warehouse.duckdb');
  if (!existsSync(file)) return;
  await engine.run(`ATTACH ${lit(file)} AS wh`);
  try {
    const todo: Array<{ q: string; pred: string; key: string }> = [];
    for (const [q, cols] of await warehouseTables(engine)) {
      const pred = matchPredicate(cols);
      if (pred && !j.objects[`warehouse:${q}`]?.done) todo.push({ q, pred, key: `warehouse:${q}` });
    }
    const hitsOf = async (t: { q: string; pred: string }) => Number(await engine.scalar(`SELECT count(*) FROM ${t.q} WHERE ${t.pred}`));
    for (const t of todo) {
      if (j.objects[t.key]) continue;
      const hits = await hitsOf(t);
      if (hits === 0) continue;
      j.objects[t.key] = { store: 'warehouse', path: t.q.replace(/^wh\./, ''), rowsBefore: Number(await engine.scalar(`SELECT count(*) FROM ${t.q}`)), rowsRemoved: hits, checksumBefore: await tableChecksum(engine, t.q), action: 'rows-deleted', done: false };
    }
    const entries = todo.filter((t) => j.objects[t.key]);
    if (!entries.length) return;
    await saveJournalHook(j);
    await engine.run('BEGIN TRANSACTION');
    try {
      for (const t of entries) if ((await hitsOf(t)) > 0) await engine.run(`DELETE FROM ${t.q} WHERE ${t.pred}`);
      await engine.run('COMMIT');
    } catch (e) {
      await engine.run('ROLLBACK');
      throw e;
    }
    // Deleted rows must not linger in free blocks of the file.
    await engine.run('CHECKPOINT wh');
    for (const t of entries) {
      const e = j.objects[t.key]!;
      Object.assign(e, { rowsAfter: Number(await engine.scalar(`SELECT count(*) FROM ${t.q}`)), checksumAfter: await tableChecksum(engine, t.q), done: true });
    }
    await afterCommit();
  } finally {
    await engine.run('DETACH wh');
  }
}

export async function warehouseTables(engine: Engine): Promise<Map<string, Map<string, string>>> {
  const rows = await engine.all<{ s: string; t: string; c: string; ty: string }>(
    `SELECT table_schema AS s, table_name AS t, column_name AS c, data_type AS ty FROM information_schema.columns c
     WHERE table_catalog = 'wh' AND (table_schema, table_name) IN (SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_type = 'BASE TABLE')`,
  );
  const out = new Map<string, Map<string, string>>();
  for (const r of rows) {
    const q = `wh.${ident(r.s)}.${ident(r.t)}`;
    if (!out.has(q)) out.set(q, new Map());
    out.get(q)!.set(r.c, r.ty);
  }
  return out;
}

export async function filesUnder(dir: string, suffixes: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (suffixes.some((s) => e.name.endsWith(s))) out.push(full);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Identifier values a text line may carry (lower-cased), for files that are not tables. */
export function lineMatcher(values: Values): (line: string) => boolean {
  const needles = Object.entries(values).filter(([k]) => k !== 'hash').flatMap(([, l]) => l ?? []).filter((v) => v.length >= 4).map((v) => v.toLowerCase());
  return (line) => {
    const l = line.toLowerCase();
    return needles.some((n) => l.includes(n));
  };
}

/** Stream spool (NDJSON of micro-batches not yet committed): lines carrying the person's identifiers are dropped. */
async function eraseSpool(home: string, j: Journal, afterCommit: () => Promise<void>): Promise<void> {
  const matches = lineMatcher(j.values);
  for (const file of await filesUnder(join(home, 'tmp', 'stream'), ['.ndjson', '.json'])) {
    const key = `spool:${relative(home, file).split(sep).join('/')}`;
    if (j.objects[key]?.done) continue;
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    const kept = lines.filter((l) => !matches(l));
    if (kept.length === lines.length) continue;
    const next = kept.join('\n');
    const tmp = `${file}.erase-tmp`;
    await writeFile(tmp, next);
    await (await import('node:fs/promises')).rename(tmp, file);
    j.objects[key] = { store: 'spool', path: key.slice(6), rowsBefore: lines.filter(Boolean).length, rowsRemoved: lines.length - kept.length, rowsAfter: kept.filter(Boolean).length, checksumBefore: sha256(text), checksumAfter: sha256(next), action: 'rewritten', done: true };
    await afterCommit();
  }
}

/** Local cached copies of lake files (ADLS lakes) that were rewritten: deleted, the next read downloads the new one. */
async function eraseCaches(home: string, rewritten: readonly string[], j: Journal, afterCommit: () => Promise<void>): Promise<void> {
  const cached = await filesUnder(join(home, 'cache'), ['.parquet']);
  for (const file of cached) {
    const rel = relative(home, file).split(sep).join('/');
    if (!rewritten.some((p) => rel.endsWith(`/${p}`))) continue;
    const key = `cache:${rel}`;
    if (j.objects[key]?.done) continue;
    const s = await stat(file);
    j.objects[key] = { store: 'cache', path: rel, rowsBefore: 0, rowsRemoved: 0, checksumBefore: await fileChecksum(file), action: 'deleted', done: true };
    void s;
    await rm(file, { force: true });
    await afterCommit();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Verification, Snowflake plan, suppression

/**
 * Lake folders: what the erasure's own scans found (every file's identifier columns were scanned with the final
 * predicate; a rewritten file is `WHERE NOT` that predicate and its row count checked), so no second pass over the
 * lake. Warehouse tables: the match query after the DELETE's commit.
 */
async function verify(engine: Engine, home: string, checks: LakeChecks): Promise<Receipt['verification']> {
  const out: Receipt['verification'] = [...checks].sort(([a], [b]) => a.localeCompare(b)).map(([dir, c]) => ({ store: 'lake', object: dir, query: c.query, hits: c.hits }));
  const file = join(home, 'warehouse.duckdb');
  if (existsSync(file)) {
    await engine.run(`ATTACH ${lit(file)} AS wh (READ_ONLY)`);
    try {
      for (const [q, cols] of await warehouseTables(engine)) {
        const pred = matchPredicate(cols);
        if (!pred) continue;
        out.push({ store: 'warehouse', object: q.replace(/^wh\./, ''), query: `SELECT count(*) FROM ${q.replace(/^wh\./, '')} WHERE ${pred}`, hits: Number(await engine.scalar(`SELECT count(*) FROM ${q} WHERE ${pred}`)) });
      }
    } finally {
      await engine.run('DETACH wh');
    }
  }
  return out;
}

/**
 * DELETE statements for the Snowflake warehouse: every table with a person column, matched by SHA2 of the id so the
 * plan holds no identifier in clear (Snowflake computes SHA2('c360:' || lower(id)) for each row: a scan per table).
 */
export function snowflakePlan(j: Pick<Journal, 'values' | 'requestId'>): { sql: string; statements: number } {
  const lines = [`-- Erasure ${j.requestId}: delete the erased people's rows from the Snowflake warehouse (run as LOADER).`, 'BEGIN;'];
  let statements = 0;
  // Each value hashed once, however many columns carry its kind.
  const hashed = new Map<ValueKind, string>();
  const hashesOf = (k: ValueKind) => {
    if (!hashed.has(k)) hashed.set(k, (j.values[k] ?? []).map((v) => `'${hashIdentifier(k, v)}'`).join(', '));
    return hashed.get(k)!;
  };
  for (const t of WAREHOUSE_TABLES) {
    const conds: string[] = [];
    for (const c of t.columns) {
      const kinds = (COLUMN_KINDS[c.name] ?? []).filter((k) => (j.values[k]?.length ?? 0) > 0 && k !== 'hash');
      for (const k of kinds) {
        conds.push(`SHA2('${k}:' || LOWER(${c.name}), 256) IN (${hashesOf(k)})`);
      }
    }
    if (!conds.length) continue;
    lines.push(`DELETE FROM CUSTOMER360.${t.schema}.${t.name} WHERE ${conds.join('\n   OR ')};`);
    statements++;
  }
  lines.push('COMMIT;', '');
  return { sql: lines.join('\n'), statements };
}

/** Kinds whose hashes go on the suppression list (what a later drop or event would carry). */
export const SUPPRESSED_KINDS: readonly ValueKind[] = ['customer', 'email', 'phone', 'anonymous', 'transaction', 'session', 'ticket'];

async function writeSuppression(engine: Engine, lake: Lake, j: Journal, tmpDir: string): Promise<{ path: string; entries: number }> {
  const entries = SUPPRESSED_KINDS.reduce((n, k) => n + (j.values[k]?.length ?? 0), 0);
  const path = `${SUPPRESSION_DIR}/${j.requestId}.parquet`;
  const tmp = join(tmpDir, 'suppression.parquet');
  // sha256('<kind>:' || v) in DuckDB is hashIdentifier: erase_values holds the journal's values, lower-cased.
  const body = `SELECT sha256(kind || ':' || v) AS HASH, kind AS KIND FROM erase_values WHERE kind IN (${SUPPRESSED_KINDS.map(lit).join(', ')})`;
  await engine.run(`COPY (SELECT DISTINCT HASH, KIND, ${lit(j.requestId)} AS REQUEST_ID, TIMESTAMP ${lit(j.requestedAt.replace('T', ' ').replace('Z', ''))} AS ADDED_AT FROM (${body}) ORDER BY HASH) TO ${lit(tmp)} (FORMAT parquet)`);
  await lake.putFile(tmp, path);
  return { path, entries };
}
