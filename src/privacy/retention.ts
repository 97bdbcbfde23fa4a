// `c360 retention` (and the pipeline's retention stage): remove rows older than their table's retention period
// (schemas/retention.ts) from every layer, and report what went per dataset.
//
//   Bronze, quarantine   rows whose event time is before the cutoff; a file whose rows all expired is deleted, one with
//                        some is rewritten without them (copy-on-write, atomic replace, like erasure). Bronze files are
//                        found through the event-date range the Bronze state records per file, other files through
//                        their Parquet footers' min/max, so only files that straddle the cutoff are read.
//   Silver               partitions (event_date=D) before the cutoff are dropped whole: the dataset state stops naming
//                        them first (readers take their file list from it), then the files are deleted; no data read.
//   Gold                 datasets declaring `retention` in the catalogue: their files are rewritten without the rows.
//   warehouse            DELETE of those rows from the Gold datasets' local warehouse tables in one transaction, and a
//                        Snowflake DELETE plan in _audit/privacy/retention/.
//
// What a daily run reads: the files judged by an earlier run are remembered in _privacy/retention-checked.json
// (per lake path: its size and the earliest day of its column then, the cutoff it was judged against); a file of the
// same size whose earliest day is on or after today's cutoff cannot hold an expired row, so it is not opened (on
// ADLS: not downloaded). Only new files (a day's Bronze, quarantine, Gold days), files that changed size, and files
// whose earliest day the cutoff has reached are read. Files change in place only by erasure and retention, which only
// remove rows, so a remembered earliest day stays a lower bound. The record is written after the removals: a crash
// loses only what it would have saved, never claims a file clean that was not judged so.
//
// Crash safety: a journal (_privacy/pending/retention-<asOf>.json) records each object's counts before its change is
// committed, so a run killed at any point is continued by the next one, whose report still counts what the first run
// removed. Removal is idempotent by construction (the same cutoff finds nothing left), so a re-run changes nothing.
import { mkdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ALL_CONTRACTS } from '../../schemas/index.ts';
import { RETENTION, retentionCutoff, retentionMonths } from '../../schemas/retention.ts';
import { CATALOGUE } from '../catalogue/index.ts';
import { NO_DATE, PARTITION_COLUMN, readDatasetState, statePath } from '../catalogue/partitioned.ts';
import { Engine, ident, lit, litList } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { bronzeDirOf, quarantineDirOf } from '../bronze/paths.ts';
import { readBronzeState, writeBronzeState } from '../bronze/table-state.ts';
import { silverName, stagedName } from '../silver/datasets.ts';
import type { Logger } from '../runtime/logger.ts';
import { sha256 } from './identifiers.ts';
import { PENDING_DIR } from './erasure.ts';

export const RETENTION_AUDIT_DIR = '_audit/privacy/retention';
const JOURNAL_PREFIX = `${PENDING_DIR}/retention-`;
const journalPath = (asOf: string) => `${JOURNAL_PREFIX}${asOf}.json`;
export const RETENTION_CHECKED = '_privacy/retention-checked.json';

/** Per lake path: the file's size and the earliest day of its retention column when judged (null: no dated row). */
type Checked = Record<string, { size: number; min: string | null }>;
interface CheckedRun { before: Checked; now: Checked; opened: number }

async function readChecked(lake: Lake): Promise<Checked> {
  if (!(await lake.exists(RETENTION_CHECKED))) return {};
  try {
    const c = JSON.parse((await lake.read(RETENTION_CHECKED)).toString('utf8')) as { version?: number; files?: Checked };
    return c.version === 1 && c.files ? c.files : {};
  } catch {
    return {};
  }
}

export type RetentionLayer = 'bronze' | 'quarantine' | 'silver' | 'gold';

/** One lake dataset under retention: its folder, the time column rows age by, the period and the first day kept. */
export interface RetentionTarget {
  layer: RetentionLayer;
  /** Contract name (Bronze, quarantine) or catalogue dataset name. */
  dataset: string;
  path: string;
  column: string;
  months: number;
  cutoff: string;
  /** Source tables whose period applies (the shortest one). */
  from: string[];
  warehouse?: { schema: string; table: string };
}

/** Every dataset under retention for an as-of date, from the declarations (contracts and catalogue). */
export function retentionTargets(asOf: string): RetentionTarget[] {
  const out: RetentionTarget[] = [];
  const monthsOf = (table: string) => {
    const c = ALL_CONTRACTS.find((x) => x.name === table);
    if (!c) throw new Error(`retention: unknown source table ${table}`);
    return retentionMonths(c);
  };
  for (const c of ALL_CONTRACTS) {
    const months = retentionMonths(c);
    if (months === undefined) continue;
    const base = { column: c.eventTime!, months, cutoff: retentionCutoff(asOf, months), from: [c.name] };
    out.push({ layer: 'bronze', dataset: c.name, path: bronzeDirOf(c), ...base });
    out.push({ layer: 'quarantine', dataset: c.name, path: quarantineDirOf(c), ...base });
    for (const d of CATALOGUE.filter((x) => x.name === silverName(c) || x.name === stagedName(c))) {
      out.push({ layer: 'silver', dataset: d.name, path: d.path, ...base });
    }
  }
  for (const d of CATALOGUE) {
    if (!d.retention) continue;
    const periods = d.retention.from.map(monthsOf).filter((m): m is number => m !== undefined);
    if (!periods.length) continue;
    const months = Math.min(...periods);
    out.push({
      layer: d.layer, dataset: d.name, path: d.path, column: d.retention.column, months, cutoff: retentionCutoff(asOf, months), from: [...d.retention.from],
      ...(d.warehouse ? { warehouse: { schema: d.warehouse.schema, table: d.warehouse.table } } : {}),
    });
  }
  return out;
}

export interface RetentionObject {
  store: 'lake' | 'warehouse';
  layer: RetentionLayer | 'warehouse';
  dataset: string;
  /** Lake path, `<dataset folder>/event_date=D` for a dropped partition, or SCHEMA.TABLE. */
  path: string;
  action: 'deleted' | 'rewritten' | 'partition-dropped' | 'rows-deleted';
  rowsBefore: number;
  rowsRemoved: number;
  done: boolean;
}

interface Journal {
  asOf: string;
  startedAt: string;
  resumes: number;
  objects: Record<string, RetentionObject>;
}

export interface RetentionDatasetSummary {
  layer: string;
  dataset: string;
  path: string;
  column: string;
  months: number;
  cutoff: string;
  objects: number;
  rowsRemoved: number;
}

export interface RetentionReport {
  reportVersion: 1;
  asOf: string;
  startedAt: string;
  completedAt: string;
  /** Times the run was continued after an interruption. */
  resumed: number;
  /** Per dataset under retention (every one, also those with nothing expired). */
  datasets: RetentionDatasetSummary[];
  objects: Array<Omit<RetentionObject, 'done'>>;
  snowflakePlan: { path: string; statements: number; checksum: string };
  kept: Array<{ table: string; why: string }>;
  rowsRemoved: number;
  /** Lake files opened (footer or rows) to judge them; the others were known to hold no day before their cutoff. */
  filesRead: number;
  path: string;
}

export interface RetentionOptions {
  home: string;
  lake: Lake;
  log: Logger;
  /** The run's as-of date: rows older than as-of minus the period expire. */
  asOf: string;
  /** Test hook: SIGKILL this process after this many committed changes. */
  crashAfterObjects?: number;
}

type Commit = () => Promise<void>;

/** Applies retention as of a date (first finishing any interrupted run of another date) and returns the report. */
export async function applyRetention(o: RetentionOptions): Promise<RetentionReport> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.asOf)) throw new Error(`retention: as-of date must be YYYY-MM-DD, got '${o.asOf}'`);
  // An interrupted run of another as-of date is finished first, so its removals get their report too.
  const stale = (await o.lake.list(PENDING_DIR)).map((f) => f.path).filter((p) => p.startsWith(JOURNAL_PREFIX) && p !== journalPath(o.asOf));
  const counter = { n: 0 };
  for (const p of stale.sort()) await runOnce({ ...o, asOf: p.slice(JOURNAL_PREFIX.length, -'.json'.length) }, counter);
  return runOnce(o, counter);
}

async function runOnce(o: RetentionOptions, counter: { n: number }): Promise<RetentionReport> {
  const jp = journalPath(o.asOf);
  let j: Journal;
  if (await o.lake.exists(jp)) {
    j = JSON.parse((await o.lake.read(jp)).toString('utf8')) as Journal;
    j.resumes++;
    o.log.info('continuing an interrupted retention run', { asOf: o.asOf, objectsDone: Object.values(j.objects).filter((x) => x.done).length });
  } else {
    j = { asOf: o.asOf, startedAt: new Date().toISOString(), resumes: 0, objects: {} };
  }
  const save = () => o.lake.write(jp, JSON.stringify(j));
  await save();
  const commit: Commit = async () => {
    await save();
    counter.n++;
    if (o.crashAfterObjects !== undefined && counter.n >= o.crashAfterObjects) process.kill(process.pid, 'SIGKILL');
  };
  const tmpDir = join(o.home, 'tmp', 'retention', randomUUID());
  await mkdir(tmpDir, { recursive: true });
  const engine = await Engine.open();
  const targets = retentionTargets(o.asOf);
  const before = await readChecked(o.lake);
  const checked: CheckedRun = { before, now: {}, opened: 0 };
  try {
    for (const t of targets) {
      const state = t.layer === 'silver' ? await readDatasetState(o.lake, t.path) : undefined;
      if (state) await dropPartitions(engine, o.lake, t, j, save, commit);
      else await removeRows(engine, o.lake, t, j, tmpDir, save, commit, checked);
    }
    await deleteWarehouseRows(engine, o.home, targets, j, save, commit);
    await o.lake.write(RETENTION_CHECKED, JSON.stringify({ version: 1, files: checked.now }));
  } finally {
    engine.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
  const plan = snowflakeRetentionPlan(targets, o.asOf);
  const planPath = `${RETENTION_AUDIT_DIR}/retention-${o.asOf}.sql`;
  await o.lake.write(planPath, plan.sql);
  const objects = Object.values(j.objects).sort((a, b) => (a.store + a.path).localeCompare(b.store + b.path)).map(({ done: _d, ...rest }) => rest);
  const summary = (layer: string, dataset: string) => objects.filter((x) => x.layer === layer && x.dataset === dataset);
  const datasets: RetentionDatasetSummary[] = [];
  for (const t of targets) {
    const mine = summary(t.layer, t.dataset);
    datasets.push({ layer: t.layer, dataset: t.dataset, path: t.path, column: t.column, months: t.months, cutoff: t.cutoff, objects: mine.length, rowsRemoved: mine.reduce((s, x) => s + x.rowsRemoved, 0) });
    if (t.warehouse) {
      const wh = summary('warehouse', `${t.warehouse.schema}.${t.warehouse.table}`);
      datasets.push({ layer: 'warehouse', dataset: `${t.warehouse.schema}.${t.warehouse.table}`, path: `${t.warehouse.schema}.${t.warehouse.table}`, column: t.column, months: t.months, cutoff: t.cutoff, objects: wh.length, rowsRemoved: wh.reduce((s, x) => s + x.rowsRemoved, 0) });
    }
  }
  const stamp = j.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const path = `${RETENTION_AUDIT_DIR}/retention-${o.asOf}-${stamp}.json`;
  const report: RetentionReport = {
    reportVersion: 1,
    asOf: o.asOf,
    startedAt: j.startedAt,
    completedAt: new Date().toISOString(),
    resumed: j.resumes,
    datasets,
    objects,
    snowflakePlan: { path: planPath, statements: plan.statements, checksum: sha256(plan.sql) },
    kept: Object.entries(RETENTION).flatMap(([table, r]) => ('keep' in r ? [{ table, why: r.keep }] : [])),
    rowsRemoved: objects.reduce((s, x) => s + x.rowsRemoved, 0),
    filesRead: checked.opened,
    path,
  };
  await o.lake.write(path, JSON.stringify(report, null, 2));
  await o.lake.delete(jp);
  o.log.info('retention applied', { asOf: o.asOf, objects: objects.length, rowsRemoved: report.rowsRemoved });
  return report;
}

/** The expiry predicate over a column: its date before the cutoff (text columns, as quarantine keeps them, parsed). */
function expiredSql(column: string, type: string, cutoff: string): string {
  return `COALESCE(${daySql(column, type)} < DATE ${lit(cutoff)}, false)`;
}

function daySql(column: string, type: string): string {
  const c = ident(column);
  return /^(TIMESTAMP|DATE)/.test(type) ? `CAST(${c} AS DATE)` : `COALESCE(TRY_CAST(${c} AS DATE), CAST(TRY_CAST(${c} AS TIMESTAMP) AS DATE))`;
}

const relOf = (local: string) => `read_parquet(${lit(local)}, hive_partitioning = false)`;

async function parquetUnder(lake: Lake, path: string): Promise<string[]> {
  return (await parquetSizes(lake, path)).map((f) => f.path);
}

async function parquetSizes(lake: Lake, path: string): Promise<Array<{ path: string; size: number }>> {
  return (await lake.list(path)).filter((f) => f.path.startsWith(`${path}/`) && f.path.endsWith('.parquet'));
}

interface FileStats {
  rows: number;
  /** Earliest and latest day of the column, when the footer (or Bronze state) says. */
  min?: string;
  max?: string;
  nulls: boolean;
}

/** Row counts and the column's min/max day per file, from the footers only (one query for all files). */
async function footerStats(engine: Engine, locals: readonly string[], column: string): Promise<Map<string, FileStats>> {
  const out = new Map<string, FileStats>();
  if (!locals.length) return out;
  const counts = new Map((await engine.all<{ f: string; n: unknown }>(`SELECT file_name AS f, num_rows AS n FROM parquet_file_metadata(${litList(locals)})`)).map((r) => [r.f, Number(r.n)]));
  const col = lit(column);
  const rows = await engine.all<{ f: string; mn: string | null; mx: string | null; nulls: unknown }>(`
    SELECT file_name AS f,
      strftime(min(TRY_CAST(stats_min AS TIMESTAMP)), '%Y-%m-%d') AS mn,
      strftime(max(TRY_CAST(stats_max AS TIMESTAMP)), '%Y-%m-%d') AS mx,
      bool_or(stats_min IS NULL OR stats_null_count IS NULL OR stats_null_count > 0) AS nulls
    FROM parquet_metadata(${litList(locals)}) WHERE path_in_schema = ${col} GROUP BY file_name`);
  const byFile = new Map(rows.map((r) => [r.f, r]));
  for (const f of locals) {
    const r = byFile.get(f);
    out.set(f, { rows: counts.get(f) ?? 0, ...(r?.mn ? { min: r.mn } : {}), ...(r?.mx ? { max: r.mx } : {}), nulls: !r || r.nulls !== false });
  }
  return out;
}

/**
 * Row-level retention over a folder's files (Bronze, quarantine, Gold, unpartitioned Silver). Files are judged by
 * their footer (or Bronze state) date range first: wholly expired, wholly kept, or read to count and rewrite.
 */
async function removeRows(engine: Engine, lake: Lake, t: RetentionTarget, j: Journal, tmpDir: string, save: () => Promise<void>, commit: Commit, checked: CheckedRun): Promise<void> {
  const listed = await parquetSizes(lake, t.path);
  const files = listed.map((f) => f.path);
  const sizeOf = new Map(listed.map((f) => [f.path, f.size]));
  const keyOf = (p: string) => `lake:${p}`;
  // Files deleted before a crash: their journal entries are complete.
  for (const [k, e] of Object.entries(j.objects)) {
    if (!e.done && e.store === 'lake' && e.dataset === t.dataset && e.layer === t.layer && e.action === 'deleted' && !files.includes(e.path)) {
      e.done = true;
      await save();
      void k;
    }
  }
  if (!files.length) return;
  const contract = ALL_CONTRACTS.find((c) => c.name === t.dataset);
  const bronzeState = t.layer === 'bronze' && contract ? await readBronzeState(lake, contract) : undefined;
  // Files judged before (same size) or whose Bronze state records their range, with no day before the cutoff: kept
  // without opening them.
  const clean = new Set<string>();
  for (const f of files) {
    const prior = j.objects[keyOf(f)];
    if (prior?.done) {
      // Rewritten before an interruption: what is left starts at the cutoff at the earliest.
      clean.add(f);
      checked.now[f] = { size: sizeOf.get(f)!, min: t.cutoff };
      continue;
    }
    const was = checked.before[f];
    const min = was && was.size === sizeOf.get(f) ? was.min : bronzeState?.dates?.[f]?.[0];
    if (min === undefined || (min !== null && min < t.cutoff) || j.objects[keyOf(f)]) continue;
    clean.add(f);
    checked.now[f] = { size: sizeOf.get(f)!, min };
  }
  const locals = new Map<string, string>();
  for (const f of files) if (!clean.has(f)) locals.set(f, await lake.localPath(f));
  checked.opened += locals.size;
  // Quarantine keeps values as text: footer min/max order strings, not dates, so its files are always read.
  const stats = t.layer === 'quarantine' ? new Map<string, FileStats>() : await footerStats(engine, [...locals.values()], t.column);
  const dropped: string[] = [];
  let changed = false;
  for (const f of files) {
    if (clean.has(f)) continue;
    const local = locals.get(f)!;
    const s = stats.get(local);
    const range = bronzeState?.dates?.[f] ?? (s?.min && s.max ? [s.min, s.max] : undefined);
    const prior = j.objects[keyOf(f)];
    if (range && s && !s.nulls && range[0] >= t.cutoff) {
      // Nothing expired: either untouched, or rewritten before a crash (its entry is then complete).
      if (prior) Object.assign(prior, { done: true });
      if (prior) await save();
      else checked.now[f] = { size: sizeOf.get(f)!, min: range[0] };
      continue;
    }
    let hits: number;
    let total: number;
    let pred: string;
    const cols = new Map((await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${relOf(local)}`)).map((r) => [r.column_name, r.column_type]));
    if (!cols.has(t.column)) {
      if (!prior) checked.now[f] = { size: sizeOf.get(f)!, min: null };
      continue;
    }
    pred = expiredSql(t.column, cols.get(t.column)!, t.cutoff);
    if (range && s && !s.nulls && range[1] < t.cutoff) {
      hits = s.rows;
      total = s.rows;
    } else {
      const c = (await engine.all<{ hits: unknown; total: unknown; mn: string | null }>(`SELECT count(*) FILTER (WHERE ${pred}) AS hits, count(*) AS total,
        strftime(min(${daySql(t.column, cols.get(t.column)!)}), '%Y-%m-%d') AS mn FROM ${relOf(local)}`))[0]!;
      hits = Number(c.hits);
      total = Number(c.total);
      if (hits === 0 && !prior) checked.now[f] = { size: sizeOf.get(f)!, min: c.mn };
    }
    if (hits === 0) {
      if (prior) {
        prior.done = true;
        await save();
      }
      continue;
    }
    // Bronze and quarantine files may go; others keep their path (a dataset state or snapshot names them).
    const remove = hits === total && (t.layer === 'bronze' || t.layer === 'quarantine');
    const entry: RetentionObject = prior ?? { store: 'lake', layer: t.layer, dataset: t.dataset, path: f, action: remove ? 'deleted' : 'rewritten', rowsBefore: total, rowsRemoved: hits, done: false };
    j.objects[keyOf(f)] = entry;
    await save();
    if (remove) {
      await lake.delete(f);
      dropped.push(f);
    } else {
      const tmp = join(tmpDir, `${randomUUID()}.parquet`);
      await engine.run(`COPY (SELECT * FROM ${relOf(local)} WHERE NOT ${pred}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
      const size = (await stat(tmp)).size;
      await lake.putFile(tmp, f);
      // (what is left starts at the cutoff at the earliest)
      checked.now[f] = { size, min: t.cutoff };
      // What is left starts at the cutoff at the earliest: tomorrow's run reads the file only if it straddles again.
      if (bronzeState?.dates?.[f]) bronzeState.dates[f] = [bronzeState.dates[f]![0] < t.cutoff ? t.cutoff : bronzeState.dates[f]![0], bronzeState.dates[f]![1]];
    }
    entry.done = true;
    changed = true;
    await commit();
  }
  // The Bronze state's per-file date ranges: deleted files leave it (rewritten ones keep a range that still covers them).
  if (bronzeState && contract && changed && bronzeState.dates) {
    for (const f of dropped) delete bronzeState.dates[f];
    await writeBronzeState(lake, contract, bronzeState);
  }
}

/**
 * Silver datasets partitioned by event date: expired partitions leave the dataset state (one write), then their files
 * are deleted. Files of expired partitions the state does not name (left by a crash after that write) are deleted too.
 */
async function dropPartitions(engine: Engine, lake: Lake, t: RetentionTarget, j: Journal, save: () => Promise<void>, commit: Commit): Promise<void> {
  const state = (await readDatasetState(lake, t.path))!;
  const expired = (p: string) => p !== '' && p !== NO_DATE && p < t.cutoff;
  const partitionOf = (f: string) => {
    const m = new RegExp(`/${PARTITION_COLUMN}=([^/]+)/[^/]+$`).exec(f);
    return m ? m[1]! : '';
  };
  const files = await parquetUnder(lake, t.path);
  const doomed = files.filter((f) => expired(partitionOf(f)));
  const key = (p: string) => `lake:${t.path}/${PARTITION_COLUMN}=${p}`;
  const byPartition = new Map<string, string[]>();
  for (const f of doomed) byPartition.set(partitionOf(f), [...(byPartition.get(partitionOf(f)) ?? []), f]);
  for (const p of Object.keys(state.partitions).filter(expired)) if (!byPartition.has(p)) byPartition.set(p, []);
  // Interrupted earlier: entries whose files are all gone are complete.
  for (const e of Object.values(j.objects)) {
    if (!e.done && e.layer === 'silver' && e.dataset === t.dataset && !byPartition.has(e.path.slice(e.path.lastIndexOf('=') + 1))) e.done = true;
  }
  if (!byPartition.size) return;
  const locals = await Promise.all(doomed.map((f) => lake.localPath(f)));
  const stats = await footerStats(engine, locals, t.column);
  for (const [p, fs] of byPartition) {
    if (j.objects[key(p)]) continue;
    const rows = fs.reduce((s, f) => s + (stats.get(locals[doomed.indexOf(f)]!)?.rows ?? 0), 0);
    j.objects[key(p)] = { store: 'lake', layer: 'silver', dataset: t.dataset, path: `${t.path}/${PARTITION_COLUMN}=${p}`, action: 'partition-dropped', rowsBefore: rows, rowsRemoved: rows, done: false };
  }
  await save();
  if (Object.keys(state.partitions).some(expired)) {
    for (const p of Object.keys(state.partitions).filter(expired)) delete state.partitions[p];
    await lake.write(statePath(t.path), JSON.stringify(state));
    await commit();
  }
  for (const f of doomed) await lake.delete(f);
  for (const p of byPartition.keys()) j.objects[key(p)]!.done = true;
  await commit();
}

/** Deletes expired rows from the local warehouse tables of the Gold datasets under retention, in one transaction. */
async function deleteWarehouseRows(engine: Engine, home: string, targets: readonly RetentionTarget[], j: Journal, save: () => Promise<void>, commit: Commit): Promise<void> {
  const file = join(home, 'warehouse.duckdb');
  if (!existsSync(file)) return;
  await engine.run(`ATTACH ${lit(file)} AS wh`);
  try {
    const present = new Set((await engine.all<{ q: string }>(`SELECT table_schema || '.' || table_name AS q FROM information_schema.tables WHERE table_catalog = 'wh' AND table_type = 'BASE TABLE'`)).map((r) => r.q));
    const todo: Array<{ name: string; q: string; pred: string; hits: number }> = [];
    for (const t of targets) {
      if (!t.warehouse) continue;
      const name = `${t.warehouse.schema}.${t.warehouse.table}`;
      if (!present.has(name)) continue;
      const q = `wh.${ident(t.warehouse.schema)}.${ident(t.warehouse.table)}`;
      const pred = expiredSql(t.column, 'TIMESTAMP', t.cutoff);
      const hits = Number(await engine.scalar(`SELECT count(*) FROM ${q} WHERE ${pred}`));
      const k = `warehouse:${name}`;
      if (hits === 0) {
        // Deleted before a crash, journal not yet marked.
        if (j.objects[k] && !j.objects[k]!.done) j.objects[k]!.done = true;
        continue;
      }
      j.objects[k] = { store: 'warehouse', layer: 'warehouse', dataset: name, path: name, action: 'rows-deleted', rowsBefore: Number(await engine.scalar(`SELECT count(*) FROM ${q}`)), rowsRemoved: hits, done: false };
      todo.push({ name, q, pred, hits });
    }
    await save();
    if (!todo.length) return;
    await engine.run('BEGIN TRANSACTION');
    try {
      for (const t of todo) await engine.run(`DELETE FROM ${t.q} WHERE ${t.pred}`);
      await engine.run('COMMIT');
    } catch (e) {
      await engine.run('ROLLBACK');
      throw e;
    }
    await engine.run('CHECKPOINT wh');
    for (const t of todo) j.objects[`warehouse:${t.name}`]!.done = true;
    await commit();
  } finally {
    await engine.run('DETACH wh');
  }
}

/** DELETE statements for the Snowflake warehouse: the same cutoffs over the same tables. */
export function snowflakeRetentionPlan(targets: readonly RetentionTarget[], asOf: string): { sql: string; statements: number } {
  const lines = [`-- Retention as of ${asOf}: delete rows past their retention period from the Snowflake warehouse (run as LOADER).`, 'BEGIN;'];
  let statements = 0;
  for (const t of targets) {
    if (!t.warehouse) continue;
    lines.push(`-- ${t.dataset}: ${t.months} months (${t.from.join(', ')})`);
    lines.push(`DELETE FROM CUSTOMER360.${t.warehouse.schema}.${t.warehouse.table} WHERE TO_DATE(${t.column}) < '${t.cutoff}';`);
    statements++;
  }
  lines.push('COMMIT;', '');
  return { sql: lines.join('\n'), statements };
}
