// The profile change feed: after each run, what changed in each Customer 360 profile since the last published state
// (created, updated with the attributes that changed, deleted), and the people identity resolution merged or split
// (from identity_changes). The published state is a copy of the Gold profile that the last committed batch was
// computed against, kept in the lake (src/activation/paths.ts), with how far identity_changes was published.
//
// Commit protocol, so a failed or repeated run never emits a change twice and never skips one:
//   1 the next batch number is one more than the highest batch file of profile_changes (the batch files are the log);
//   2 copy the Gold profile of the as-of date to the state file of that batch (not yet committed: nothing reads it);
//   3 diff the committed state (state file of the highest batch) against that copy, take the identity changes after
//     the SEQ that batch published, write the row hashes of the copy and the new SEQ beside it (uncommitted too),
//     then write the batch file (commit);
//   4 delete state, row-hash and SEQ files of other batches.
// A crash before 3 leaves the old batch the highest: the next run recomputes the same batch number against the same
// state and overwrites the uncommitted copy. A repeated run with unchanged input commits an empty batch.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { columns, type Dataset } from '../catalogue/dataset.ts';
import { conformSql } from '../catalogue/runner.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit, litList, unordered } from '../engine/duckdb.ts';
import { customerProfile } from '../gold/customer-profile.ts';
import { GOLD_ROOT, goldDir } from '../gold/paths.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery, parquetFiles } from '../lake/parquet.ts';
import { owned } from '../runtime/tmp.ts';
import { C360Error } from '../runtime/errors.ts';
import { IDENTITY_DATASETS } from '../silver/datasets.ts';
import { T } from '../warehouse/types.ts';
import { identityChangeRows } from './identity.ts';
import { IDENTITY_SEQ_DIR, PROFILE_HASH_DIR, PROFILE_STATE_DIR, batchFileName, identitySeqPath, parseBatch, profileHashesPath, profileStatePath } from './paths.ts';

export const CHANGE_TYPES = ['created', 'updated', 'deleted', 'merged', 'split'] as const;
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
  description: 'Profile change feed: one row per customer whose profile was created, updated or deleted since the last published state, and one per merge or split of people by identity resolution',
  grain: 'one row per CUSTOMER360_ID and batch, plus one per identity merge/split (a batch is one committed diff; files as_of_date=D/batch-NNNNNNNN.parquet)',
  maintenance: 'append',
  job: 'gold-profile-changes',
  inputs: ['customer_profile', IDENTITY_DATASETS.changes],
  primaryKey: ['CHANGE_ID'],
  columns: columns([
    ['CHANGE_ID', T.varchar, 'Stable event id: pc-<batch>-<CUSTOMER360_ID>, or pi-<identity EVENT_ID> for a merge/split; the same change always has the same id (consumer-side dedupe)'],
    ['BATCH', T.bigint, 'Publish sequence number: batches are committed in order, each diffed against the state the previous one published'],
    ['RUN_ID', T.varchar, 'Run that committed the batch'],
    ['AS_OF_DATE', T.date, 'As-of date of the Gold profile the batch was computed from'],
    ['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution (CUSTOMER360_ID); merged: the survivor; split: the id the larger part kept'],
    ['CHANGE_TYPE', T.varchar, 'created, updated or deleted; merged or split (identity resolution joined people into one, or one person into several)'],
    ['CHANGED_ATTRIBUTES', T.varchar, 'Profile columns whose value changed (created: those with a value), comma-separated; empty when deleted'],
    ['CHANGES', T.varchar, 'JSON array, one object per changed attribute: {attribute, old, new} for non-PII, {attribute, pii: true, oldChecksum, newChecksum} for PII'],
    ['PROFILE_CHECKSUM', T.varchar, 'Hash of the tracked attributes of the new profile (NULL when deleted, merged or split)'],
    ['IDS_BEFORE', T.varchar, 'merged/split: person ids before, comma-separated (merged: every previous id, the survivor first); NULL otherwise'],
    ['IDS_AFTER', T.varchar, 'merged/split: person ids after, comma-separated (merged: the survivor; split: the kept id first); NULL otherwise'],
  ]),
  warehouse: {
    schema: 'CUSTOMER_360', table: 'PROFILE_CHANGES', strategy: 'append', clusterBy: ['AS_OF_DATE', 'CUSTOMER360_ID'],
    comment: 'Profile change feed: created, updated (changed attributes, old/new values or PII checksums), deleted, merged and split profiles per committed batch',
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

/**
 * SQL of the changes between two relations of full profile rows (the old and new rows of the candidate ids, each with
 * the profile columns): created, deleted, or updated with one entry per compared column whose value differs. A
 * candidate whose compared columns are all equal (possible only if stored hashes were stale) is no change.
 */
export function profileDiffSql(o: { oldRel: string; newRel: string; compared: readonly string[]; batch: number; runId: string; asOf: string }): string {
  const id = ident('CUSTOMER360_ID');
  // PII values never leave as values: a checksum salted with the person id says that, not what, it changed.
  const checksum = (side: string, c: string) => `sha256(${side}.${id} || chr(31) || CAST(${side}.${ident(c)} AS VARCHAR))`;
  const entries = o.compared.map((c) => {
    const changed = `o.${ident(c)} IS DISTINCT FROM n.${ident(c)}`;
    const obj = PII.get(c)
      ? `json_object('attribute', ${lit(c)}, 'pii', true, 'oldChecksum', ${checksum('o', c)}, 'newChecksum', ${checksum('n', c)})`
      : `json_object('attribute', ${lit(c)}, 'old', o.${ident(c)}, 'new', n.${ident(c)})`;
    return `CASE WHEN n.${id} IS NOT NULL AND ${changed} THEN ${obj} END`;
  });
  return `WITH d AS (
  SELECT COALESCE(n.${id}, o.${id}) AS CUSTOMER360_ID,
    CASE WHEN o.${id} IS NULL THEN 'created' WHEN n.${id} IS NULL THEN 'deleted' ELSE 'updated' END AS CHANGE_TYPE,
    CASE WHEN n.${id} IS NOT NULL THEN lpad(to_hex(hash(${o.compared.map((c) => `n.${ident(c)}`).join(', ')})), 16, '0') END AS PROFILE_CHECKSUM,
    list_filter([${entries.join(',\n      ')}], x -> x IS NOT NULL) AS entries
  FROM (${o.oldRel}) o FULL JOIN (${o.newRel}) n ON o.${id} = n.${id}
)
SELECT 'pc-' || ${o.batch} || '-' || CUSTOMER360_ID AS CHANGE_ID, CAST(${o.batch} AS BIGINT) AS BATCH, ${lit(o.runId)} AS RUN_ID,
  DATE ${lit(o.asOf)} AS AS_OF_DATE, CUSTOMER360_ID, CHANGE_TYPE,
  array_to_string(list_transform(entries, x -> json_extract_string(x, '$.attribute')), ',') AS CHANGED_ATTRIBUTES,
  CAST(to_json(entries) AS VARCHAR) AS CHANGES, PROFILE_CHECKSUM, CAST(NULL AS VARCHAR) AS IDS_BEFORE, CAST(NULL AS VARCHAR) AS IDS_AFTER
FROM d
WHERE CHANGE_TYPE <> 'updated' OR len(entries) > 0`;
}

/**
 * A profile's row hash: DuckDB's 64-bit hash() of the compared columns (not the key, so it is also PROFILE_CHECKSUM).
 * Two profiles with equal values have equal row hashes; a stored hash is matched together with the key hash, so a new
 * row is unchanged only when its own previous row had the same hash (see commitProfileChanges).
 */
export function rowHashSql(compared: readonly string[]): string {
  return compared.length ? `hash(${compared.map(ident).join(', ')})` : 'CAST(0 AS UBIGINT)';
}

/** Which profile a stored row hash belongs to: the 64-bit hash() of CUSTOMER360_ID. */
export const KEY_HASH_SQL = `hash(${ident('CUSTOMER360_ID')})`;

const HASH_KEY = 'c360_row_hash';

/** What a stored row hash covers: the layout (k, h), the compared columns, and the DuckDB version whose hash() computed it. */
async function rowHashKey(engine: Engine, compared: readonly string[]): Promise<string> {
  const [v] = await engine.all<{ v: string }>('SELECT version() AS v');
  return `${v!.v}|k,h|${compared.join(',')}`;
}

/**
 * The stored (key hash, row hash) pairs of a published state when they can be trusted (same layout and columns, same
 * DuckDB hash, one per row of the state); undefined otherwise, and the caller hashes the state itself.
 */
async function storedRowHashes(engine: Engine, lake: Lake, batch: number, key: string, stateRows: number): Promise<string | undefined> {
  const path = profileHashesPath(batch);
  if (!(await lake.exists(path))) return undefined;
  const file = lit(await lake.localPath(path));
  const [m] = await engine.all<{ v: string }>(`SELECT decode(value) AS v FROM parquet_kv_metadata(${file}) WHERE decode(key) = ${lit(HASH_KEY)}`);
  if (m?.v !== key) return undefined;
  const [c] = await engine.all<{ n: number }>(`SELECT CAST(count(*) AS BIGINT) AS n FROM read_parquet(${file})`);
  return Number(c!.n) === stateRows ? `SELECT k, h FROM read_parquet(${file})` : undefined;
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

/** The identity_changes SEQ a committed batch published up to (0 for a batch from before the feed kept it). */
async function publishedIdentitySeq(lake: Lake, batch: number): Promise<number> {
  const p = identitySeqPath(batch);
  if (!(await lake.exists(p))) return 0;
  return Number((JSON.parse((await lake.read(p)).toString('utf8')) as { identitySeq: number }).identitySeq);
}

async function rowCount(engine: Engine, file: string): Promise<number> {
  const [c] = await engine.all<{ n: number }>(`SELECT CAST(count(*) AS BIGINT) AS n FROM read_parquet(${lit(file)})`);
  return Number(c!.n);
}

/**
 * Commits the next batch of the change feed for the Gold profile of `asOf` (see the protocol at the top of the file).
 *
 * Each snapshot is read in full once. The new profile is read once, hashing each row (key hash k, row hash h) and
 * keeping the full rows whose (k, h) pair the published state's stored pairs lack: the created and updated profiles.
 * The previous state is read once, keeping only the rows of those ids (and of the deleted ids, looked for when the row
 * counts say there are some). The new state's pairs are the old ones minus those of the old rows kept plus those of
 * the new rows kept, so no snapshot is ever hashed twice.
 *
 * Collisions: a new row counts as unchanged only when its own key's stored pair has its row hash. Equal values in two
 * profiles (equal row hashes, which happen all the time) therefore never hide a change; what could is DuckDB's 64-bit
 * hash() giving a profile's new values the same hash as its own previous values, about 1 in 1.8e19 per changed profile.
 */
export async function commitProfileChanges(engine: Engine, lake: Lake, o: { asOf: string; runId: string; tmpDir: string }): Promise<ChangeBatchResult> {
  const profileFiles = await parquetFiles(lake, goldDir(customerProfile.name, o.asOf));
  if (profileFiles.length === 0) throw new C360Error(`No Gold profile as of ${o.asOf} (${goldDir(customerProfile.name, o.asOf)}): run gold-customer first`);
  const batches = await committedBatches(lake);
  const last = batches.at(-1);
  const batch = (last?.batch ?? 0) + 1;
  let oldFile: string | null = null;
  if (last) {
    const statePath = profileStatePath(last.batch);
    if (!(await lake.exists(statePath))) {
      throw new C360Error(`Profile change feed: the published state of batch ${last.batch} (${statePath}) is missing, so changes since it cannot be computed; restore it, or remove ${profileChanges.path} and ${PROFILE_STATE_DIR} to start the feed again (every profile is then published as created)`);
    }
    oldFile = await lake.localPath(statePath);
  }
  const nextState = profileStatePath(batch);
  await copyProfile(engine, lake, profileFiles, nextState, o.tmpDir);
  const newFile = await lake.localPath(nextState);
  const cols = async (file: string) =>
    (await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`)).map((r) => r.column_name);
  const newCols = await cols(newFile);
  const oldCols = oldFile ? new Set(await cols(oldFile)) : new Set(newCols);
  // Columns the profile gained or lost since the state was published are not compared (they would mark everyone).
  const compared = newCols.filter((c) => oldCols.has(c) && !UNTRACKED_COLUMNS.has(c));
  const key = await rowHashKey(engine, compared);
  const hashes = `${KEY_HASH_SQL} AS _k, ${rowHashSql(compared)} AS _h`;
  const id = ident('CUSTOMER360_ID');
  const newScan = `SELECT *, ${hashes} FROM read_parquet(${lit(newFile)})`;
  let oldRel = 'SELECT * FROM pc_new WHERE false';
  let newHashes = `SELECT _k AS k, _h AS h FROM pc_new`;
  // When the deletions were counted from key hashes: the number of created profiles that count implies.
  let expectCreated: number | undefined;
  let deletedIds = '';
  try {
    if (!oldFile) {
      // The first batch: every profile is created, streamed from the file (nothing to keep aside).
      await engine.run(`CREATE OR REPLACE TEMP VIEW pc_new AS ${newScan}`);
    } else {
      const oldScan = `read_parquet(${lit(oldFile)})`;
      const oldRows = await rowCount(engine, oldFile);
      const newRows = await rowCount(engine, newFile);
      const stored = await storedRowHashes(engine, lake, last!.batch, key, oldRows);
      await engine.run(`CREATE OR REPLACE TEMP TABLE pc_old_hashes AS ${stored ?? `SELECT ${KEY_HASH_SQL} AS k, ${rowHashSql(compared)} AS h FROM ${oldScan}`}`);
      // In any order (the batch is sorted when written): an ordered insert costs the wide scan more.
      await unordered(engine, `CREATE OR REPLACE TEMP TABLE pc_new AS SELECT n.* FROM (${newScan}) n ANTI JOIN pc_old_hashes o ON n._k = o.k AND n._h = o.h`);
      // Of the kept ids, those in the old state are updates; every other old id missing from the new profile is a
      // deletion. The key hashes tell how many kept ids are old ones without reading the state (never fewer than there
      // are: two ids sharing a key hash can only make it more, so deletions are looked for whenever there may be some,
      // and the created rows of the batch check the count before it commits).
      const [k] = await engine.all<{ kept: number; changed: number }>(
        `SELECT CAST((SELECT count(*) FROM pc_old_hashes WHERE k IN (SELECT _k FROM pc_new)) AS BIGINT) AS kept, CAST((SELECT count(*) FROM pc_new) AS BIGINT) AS changed`,
      );
      const changed = Number(k!.changed);
      const lookForDeleted = oldRows - newRows + changed - Number(k!.kept) > 0;
      if (!lookForDeleted) expectCreated = changed - Number(k!.kept);
      deletedIds = `SELECT ${id} FROM (SELECT ${id} FROM ${oldScan}) ANTI JOIN (SELECT ${id} FROM read_parquet(${lit(newFile)})) USING (${id})`;
      await engine.run(`CREATE OR REPLACE TEMP TABLE pc_deleted AS ${lookForDeleted ? deletedIds : `SELECT ${id} FROM pc_new WHERE false`}`);
      // The previous state is read once, inside the diff, for just these ids.
      oldRel = `SELECT * FROM ${oldScan} WHERE ${id} IN (SELECT ${id} FROM pc_new UNION ALL SELECT ${id} FROM pc_deleted)`;
      // The next state's pairs: the stored ones but those of the ids read (updated or deleted), plus the new rows kept.
      // (A created id sharing a key hash with an unchanged one drops that one's pair too: the next run then reads it
      // as a candidate and finds it unchanged.)
      newHashes = `SELECT k, h FROM pc_old_hashes ANTI JOIN (SELECT _k AS r FROM pc_new UNION ALL SELECT ${KEY_HASH_SQL} FROM pc_deleted) ON k = r UNION ALL SELECT _k, _h FROM pc_new`;
    }
    const diff = profileDiffSql({ oldRel, newRel: 'SELECT * FROM pc_new', compared, batch, runId: o.runId, asOf: o.asOf });
    // The first batch publishes everyone as created: merges and splits before it are history nobody has to follow.
    const published = last ? await publishedIdentitySeq(lake, last.batch) : undefined;
    const identity = await identityChangeRows(engine, lake, { after: published, batch, runId: o.runId, asOf: o.asOf });
    const all = identity
      ? `SELECT * FROM (${diff}) WHERE CHANGE_TYPE <> 'deleted' OR CUSTOMER360_ID NOT IN (${identity.retiredSql}) UNION ALL ${identity.rowsSql}`
      : diff;
    const query = await conformSql(engine, profileChanges, `SELECT * FROM (${all}) ORDER BY CUSTOMER360_ID, CHANGE_ID`);
    const identitySeq = identity?.upTo ?? published ?? 0;
    await mkdir(o.tmpDir, { recursive: true });
    const tmp = join(o.tmpDir, owned(`${randomUUID()}.parquet`));
    try {
      const write = async () => {
        await engine.run(`COPY (${query}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
        return engine.all<{ t: string; n: number }>(`SELECT CHANGE_TYPE AS t, CAST(count(*) AS INTEGER) AS n FROM read_parquet(${lit(tmp)}) GROUP BY 1 ORDER BY 1`);
      };
      let counts = await write();
      if (expectCreated !== undefined && (counts.find((c) => c.t === 'created')?.n ?? 0) !== expectCreated) {
        // Two ids shared a key hash and the count above missed deleted profiles: look for them, and diff again.
        await engine.run(`INSERT INTO pc_deleted ${deletedIds}`);
        counts = await write();
      }
      // The hashes of the next state are written before the batch commits it (like the state copy), so they are there
      // whenever the state is.
      await writeRowHashes(engine, lake, newHashes, profileHashesPath(batch), key, o.tmpDir);
      await lake.write(identitySeqPath(batch), JSON.stringify({ identitySeq }) + '\n');
      const path = changeBatchPath(o.asOf, batch);
      await lake.putFile(tmp, path);
      const keep = new Set([nextState, profileHashesPath(batch), identitySeqPath(batch)]);
      for (const dir of [PROFILE_STATE_DIR, PROFILE_HASH_DIR, IDENTITY_SEQ_DIR]) for (const f of await lake.list(dir)) if (!keep.has(f.path)) await lake.delete(f.path);
      const rows = counts.reduce((a, c) => a + c.n, 0);
      return { batch, path, rows, byType: Object.fromEntries(counts.map((r) => [r.t, r.n])), previous: last?.batch ?? 0 };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    await engine.run(`DROP ${oldFile ? 'TABLE' : 'VIEW'} IF EXISTS pc_new; DROP TABLE IF EXISTS pc_old_hashes; DROP TABLE IF EXISTS pc_deleted`);
  }
}

async function writeRowHashes(engine: Engine, lake: Lake, query: string, to: string, key: string, tmpDir: string): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${randomUUID()}.parquet`);
  try {
    // Uncompressed: 64-bit hashes do not compress, and compressing them costs time.
    await engine.run(`COPY (${query}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION uncompressed, KV_METADATA {${HASH_KEY}: ${lit(key)}})`);
    await lake.putFile(tmp, to);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Writes the row hashes of an existing published state from the state itself (every column it has is compared): what
 * the batch that published it would have written. For a state published before the hashes were kept, and the bench.
 */
export async function hashPublishedState(engine: Engine, lake: Lake, batch: number, tmpDir: string): Promise<void> {
  const file = lit(await lake.localPath(profileStatePath(batch)));
  const compared = (await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${file})`)).map((r) => r.column_name).filter((c) => !UNTRACKED_COLUMNS.has(c));
  await writeRowHashes(engine, lake, `SELECT ${KEY_HASH_SQL} AS k, ${rowHashSql(compared)} AS h FROM read_parquet(${file})`, profileHashesPath(batch), await rowHashKey(engine, compared), tmpDir);
}
