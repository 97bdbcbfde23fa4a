// The profile change feed: after each run, what changed in each Customer 360 profile since the last published state
// (created, updated with the attributes that changed, deleted). The published state is a copy of the Gold profile
// that the last committed batch was computed against, kept in the lake (src/activation/paths.ts).
//
// Commit protocol, so a failed or repeated run never emits a change twice and never skips one:
//   1 the next batch number is one more than the highest batch file of profile_changes (the batch files are the log);
//   2 copy the Gold profile of the as-of date to the state file of that batch (not yet committed: nothing reads it);
//   3 diff the committed state (state file of the highest batch) against that copy, write the batch file (commit);
//   4 delete state files of other batches.
// A crash before 3 leaves the old batch the highest: the next run recomputes the same batch number against the same
// state and overwrites the uncommitted copy. A repeated run with unchanged input commits an empty batch.
import { copyFile, mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { columns, type Dataset } from '../catalogue/dataset.ts';
import { conformSql } from '../catalogue/runner.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit, litList } from '../engine/duckdb.ts';
import { customerProfile } from '../gold/customer-profile.ts';
import { GOLD_ROOT, goldDir } from '../gold/paths.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery, parquetFiles } from '../lake/parquet.ts';
import { C360Error } from '../runtime/errors.ts';
import { T } from '../warehouse/types.ts';
import { PROFILE_STATE_DIR, batchFileName, parseBatch, profileStatePath } from './paths.ts';

export const CHANGE_TYPES = ['created', 'updated', 'deleted'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/**
 * Profile columns that are not compared: the key, the as-of date, and DAYS_SINCE_LAST_PURCHASE, which moves every day
 * by construction (LAST_PURCHASE_DATE carries its information and is compared).
 */
export const UNTRACKED_COLUMNS = new Set(['CUSTOMER360_ID', 'AS_OF_DATE', 'DAYS_SINCE_LAST_PURCHASE']);

export const profileChanges: Dataset = {
  name: 'profile_changes',
  layer: 'gold',
  path: `${GOLD_ROOT}/profile_changes`,
  description: 'Profile change feed: one row per customer whose profile was created, updated or deleted since the last published state',
  grain: 'one row per CUSTOMER360_ID and batch (a batch is one committed diff; files as_of_date=D/batch-NNNNNNNN.parquet)',
  maintenance: 'append',
  job: 'gold-profile-changes',
  inputs: ['customer_profile'],
  primaryKey: ['CHANGE_ID'],
  columns: columns([
    ['CHANGE_ID', T.varchar, 'Stable event id: pc-<batch>-<CUSTOMER360_ID>; the same change always has the same id (consumer-side dedupe)'],
    ['BATCH', T.bigint, 'Publish sequence number: batches are committed in order, each diffed against the state the previous one published'],
    ['RUN_ID', T.varchar, 'Run that committed the batch'],
    ['AS_OF_DATE', T.date, 'As-of date of the Gold profile the batch was computed from'],
    ['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution (CUSTOMER360_ID)'],
    ['CHANGE_TYPE', T.varchar, 'created, updated or deleted'],
    ['CHANGED_ATTRIBUTES', T.varchar, 'Profile columns whose value changed (created: those with a value), comma-separated; empty when deleted'],
    ['CHANGES', T.varchar, 'JSON array, one object per changed attribute: {attribute, old, new} for non-PII, {attribute, pii: true, oldChecksum, newChecksum} for PII'],
    ['PROFILE_CHECKSUM', T.varchar, 'Hash of the tracked attributes of the new profile (NULL when deleted)'],
  ]),
  warehouse: {
    schema: 'CUSTOMER_360', table: 'PROFILE_CHANGES', strategy: 'append', clusterBy: ['AS_OF_DATE', 'CUSTOMER360_ID'],
    comment: 'Profile change feed: created, updated (changed attributes, old/new values or PII checksums) and deleted profiles per committed batch',
  },
};

/** Lake path of one batch of the change feed. */
export function changeBatchPath(asOf: string, batch: number, dataset: Dataset = profileChanges): string {
  return `${goldDir(dataset.name, asOf)}/${batchFileName(batch)}`;
}

export interface CommittedBatch {
  batch: number;
  asOf: string;
  path: string;
}

/** Committed batches of a batch-logged dataset (files as_of_date=D/batch-N.parquet), in batch order. */
export async function committedBatches(lake: Lake, datasetPath: string = profileChanges.path): Promise<CommittedBatch[]> {
  const out: CommittedBatch[] = [];
  for (const path of await parquetFiles(lake, datasetPath)) {
    const m = /as_of_date=(\d{4}-\d{2}-\d{2})\/(batch-\d+\.parquet)$/.exec(path);
    const batch = m ? parseBatch(m[2]!) : undefined;
    if (m && batch !== undefined) out.push({ batch, asOf: m[1]!, path });
  }
  return out.sort((a, b) => a.batch - b.batch);
}

const PII = new Map(customerProfile.columns.map((c) => [c.name, !!c.pii]));

/** SQL of the diff between two Parquet file lists of the profile, over the columns both have. */
export function profileDiffSql(o: {
  oldFiles: readonly string[] | null; newFiles: readonly string[]; compared: readonly string[]; batch: number; runId: string; asOf: string;
  /** A relation of the CUSTOMER360_IDs that differ (changedKeysSql): only their full rows are read and compared. */
  keys?: string;
}): string {
  const id = ident('CUSTOMER360_ID');
  const hash = `hash(${o.compared.map(ident).join(', ')})`;
  const only = o.keys ? ` WHERE ${id} IN (SELECT ${id} FROM ${o.keys})` : '';
  const newRel = `SELECT *, ${hash} AS _h FROM read_parquet(${litList(o.newFiles)})${only}`;
  const oldRel = o.oldFiles
    ? `SELECT *, ${hash} AS _h FROM read_parquet(${litList(o.oldFiles)})${only}`
    : `SELECT * FROM (${newRel}) WHERE false`;
  // PII values never leave as values: a checksum salted with the person id says that, not what, it changed.
  const checksum = (side: string, c: string) => `sha256(${side}.${id} || chr(31) || CAST(${side}.${ident(c)} AS VARCHAR))`;
  const entries = o.compared.map((c) => {
    const changed = `o.${ident(c)} IS DISTINCT FROM n.${ident(c)}`;
    const obj = PII.get(c)
      ? `json_object('attribute', ${lit(c)}, 'pii', true, 'oldChecksum', ${checksum('o', c)}, 'newChecksum', ${checksum('n', c)})`
      : `json_object('attribute', ${lit(c)}, 'old', o.${ident(c)}, 'new', n.${ident(c)})`;
    return `CASE WHEN n.${id} IS NOT NULL AND ${changed} THEN ${obj} END`;
  });
  return `WITH o AS (${oldRel}), n AS (${newRel}),
d AS (
  SELECT COALESCE(n.${id}, o.${id}) AS CUSTOMER360_ID,
    CASE WHEN o.${id} IS NULL THEN 'created' WHEN n.${id} IS NULL THEN 'deleted' ELSE 'updated' END AS CHANGE_TYPE,
    CASE WHEN n.${id} IS NOT NULL THEN lpad(to_hex(n._h), 16, '0') END AS PROFILE_CHECKSUM,
    list_filter([${entries.join(',\n      ')}], x -> x IS NOT NULL) AS entries
  FROM o FULL JOIN n ON o.${id} = n.${id}
  WHERE o._h IS DISTINCT FROM n._h
)
SELECT 'pc-' || ${o.batch} || '-' || CUSTOMER360_ID AS CHANGE_ID, CAST(${o.batch} AS BIGINT) AS BATCH, ${lit(o.runId)} AS RUN_ID,
  DATE ${lit(o.asOf)} AS AS_OF_DATE, CUSTOMER360_ID, CHANGE_TYPE,
  array_to_string(list_transform(entries, x -> json_extract_string(x, '$.attribute')), ',') AS CHANGED_ATTRIBUTES,
  CAST(to_json(entries) AS VARCHAR) AS CHANGES, PROFILE_CHECKSUM
FROM d
ORDER BY CUSTOMER360_ID`;
}

/**
 * The ids whose compared columns differ (or that exist on one side only), from a join of (id, hash) alone: the full
 * rows, which a join of both whole snapshots would carry through its hash table, are then read only for these.
 */
export function changedKeysSql(oldFiles: readonly string[], newFiles: readonly string[], compared: readonly string[]): string {
  const id = ident('CUSTOMER360_ID');
  const side = (files: readonly string[]) => `SELECT ${id}, hash(${compared.map(ident).join(', ')}) AS _h FROM read_parquet(${litList(files)})`;
  return `SELECT COALESCE(n.${id}, o.${id}) AS ${id} FROM (${side(oldFiles)}) o FULL JOIN (${side(newFiles)}) n ON o.${id} = n.${id} WHERE o._h IS DISTINCT FROM n._h`;
}

export interface ChangeBatchResult {
  batch: number;
  path: string;
  rows: number;
  byType: Record<string, number>;
  /** Batch whose state this one was diffed against (0: none, every profile is created). */
  previous: number;
}

/** Copies lake files to one lake path without re-encoding (one file) or through DuckDB (several). */
async function copyProfile(engine: Engine, lake: Lake, files: readonly string[], to: string, tmpDir: string): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  if (files.length === 1) {
    const tmp = join(tmpDir, `${randomUUID()}.parquet`);
    await copyFile(await lake.localPath(files[0]!), tmp);
    await lake.putFile(tmp, to);
    return;
  }
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  await commitQuery(engine, lake, `SELECT * FROM read_parquet(${litList(local)})`, to, { tmpDir, compression: 'zstd' });
}

/**
 * Commits the next batch of the change feed for the Gold profile of `asOf` (see the protocol at the top of the file).
 */
export async function commitProfileChanges(engine: Engine, lake: Lake, o: { asOf: string; runId: string; tmpDir: string }): Promise<ChangeBatchResult> {
  const profileFiles = await parquetFiles(lake, goldDir(customerProfile.name, o.asOf));
  if (profileFiles.length === 0) throw new C360Error(`No Gold profile as of ${o.asOf} (${goldDir(customerProfile.name, o.asOf)}): run gold-customer first`);
  const batches = await committedBatches(lake);
  const last = batches.at(-1);
  const batch = (last?.batch ?? 0) + 1;
  let oldFiles: string[] | null = null;
  if (last) {
    const statePath = profileStatePath(last.batch);
    if (!(await lake.exists(statePath))) {
      throw new C360Error(`Profile change feed: the published state of batch ${last.batch} (${statePath}) is missing, so changes since it cannot be computed; restore it, or remove ${profileChanges.path} and ${PROFILE_STATE_DIR} to start the feed again (every profile is then published as created)`);
    }
    oldFiles = [await lake.localPath(statePath)];
  }
  const nextState = profileStatePath(batch);
  await copyProfile(engine, lake, profileFiles, nextState, o.tmpDir);
  const newFiles = [await lake.localPath(nextState)];
  const cols = async (files: readonly string[]) =>
    (await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${litList(files)})`)).map((r) => r.column_name);
  const newCols = await cols(newFiles);
  const oldCols = oldFiles ? new Set(await cols(oldFiles)) : new Set(newCols);
  // Columns the profile gained or lost since the state was published are not compared (they would mark everyone).
  const compared = newCols.filter((c) => oldCols.has(c) && !UNTRACKED_COLUMNS.has(c));
  let keys: string | undefined;
  if (oldFiles) {
    await engine.run(`CREATE OR REPLACE TEMP TABLE pc_keys AS ${changedKeysSql(oldFiles, newFiles, compared)}`);
    keys = 'pc_keys';
  }
  const query = await conformSql(engine, profileChanges, profileDiffSql({ oldFiles, newFiles, compared, batch, runId: o.runId, asOf: o.asOf, keys }));
  const path = changeBatchPath(o.asOf, batch);
  const rows = await commitQuery(engine, lake, query, path, { tmpDir: o.tmpDir, compression: 'zstd' });
  for (const f of await lake.list(PROFILE_STATE_DIR)) if (f.path !== nextState) await lake.delete(f.path);
  const counts = await engine.all<{ t: string; n: number }>(`SELECT CHANGE_TYPE AS t, CAST(count(*) AS INTEGER) AS n FROM read_parquet(${lit(await lake.localPath(path))}) GROUP BY 1`);
  return { batch, path, rows, byType: Object.fromEntries(counts.map((r) => [r.t, r.n])), previous: last?.batch ?? 0 };
}
