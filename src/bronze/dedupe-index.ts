// The per-table exact-duplicate index: a few Parquet files of `_record_hash` under bronze/_index/, named in
// the table's _state.json with the data files each covers. A lookup reads the index files (at most MAX_INDEX_FILES
// + 1, however many Bronze files the table has) plus the hash column of any file no index file covers yet (the
// outputs of a run that crashed between its data and its state commit). Each ingest adds one small index file with
// its new hashes (and those of the uncovered files it read); past MAX_INDEX_FILES they are merged into one.
import type { TableContract } from '../../schemas/contract.ts';
import { litList, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { joinLake } from '../lake/lake.ts';
import { commitQuery } from '../lake/parquet.ts';
import { bronzeDataFiles, indexDirOf, quarantineDataFiles, readBronzeState, writeBronzeState, type BronzeTableState } from './table-state.ts';

/** Index files kept before they are merged into one (bounds the files a lookup opens). */
export const MAX_INDEX_FILES = 8;

export interface HeldHashes {
  state: BronzeTableState;
  /** Local paths whose `_record_hash` column together holds every hash the table has. */
  localFiles: string[];
  /** Data files (lake paths) read directly because no index file covers them. */
  uncovered: string[];
}

/** Serialises state updates of one table within a process (streaming writes batches of a table concurrently). */
const locks = new Map<string, Promise<unknown>>();
export async function withTableLock<T>(lake: Lake, c: TableContract, fn: () => Promise<T>): Promise<T> {
  const key = `${lake.location}|${c.name}`;
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(key, next.catch(() => undefined));
  return next;
}

/** Where the held hashes of a table are: its index files plus the files they do not cover. */
export async function heldHashes(lake: Lake, c: TableContract): Promise<HeldHashes> {
  const state = await readBronzeState(lake, c);
  const existing = new Set((await lake.list(indexDirOf(c))).map((f) => f.path));
  // An index file the state names but the lake lacks (a lost update raced a merge) covers nothing.
  state.index = state.index.filter((i) => existing.has(i.file));
  const covered = new Set(state.index.flatMap((i) => i.covers));
  const data = [...(await bronzeDataFiles(lake, c, state)), ...(await quarantineDataFiles(lake, c))];
  const uncovered = data.filter((p) => !covered.has(p));
  const localFiles = await Promise.all([...state.index.map((i) => i.file), ...uncovered].map((p) => lake.localPath(p)));
  return { state, localFiles, uncovered };
}

/**
 * Records the hashes of `outputs` (selected by `newHashesSql`) and of the uncovered files in a new index file, then
 * commits the state; merges the index files into one when there are more than MAX_INDEX_FILES.
 */
export async function addToIndex(
  engine: Engine,
  lake: Lake,
  c: TableContract,
  o: {
    held: HeldHashes;
    newHashesSql: string;
    /** The new hashes are distinct already (a deduplicated ingest): no grouping needed. */
    distinct?: boolean;
    outputs: readonly string[];
    name: string;
    tmpDir: string;
    dates?: Record<string, [string, string]>;
  },
): Promise<void> {
  const uncoveredLocal = await Promise.all(o.held.uncovered.map((p) => lake.localPath(p)));
  const parts = [o.newHashesSql, ...(uncoveredLocal.length ? [`SELECT _record_hash FROM read_parquet(${litList(uncoveredLocal)}, union_by_name = true)`] : [])];
  const file = joinLake(indexDirOf(c), `idx-${o.name}.parquet`);
  // Neither sorted nor grouped when the hashes are distinct: a lookup joins on them, which needs no order (random
  // MD5s leave row-group ranges nothing to skip), and sorting and grouping 1M hashes cost a tenth of Bronze's CPU.
  // Held hashes the new ones exclude, so only uncovered files can bring repeats.
  const query = o.distinct && uncoveredLocal.length === 0 ? parts[0]! : `SELECT DISTINCT _record_hash FROM (${parts.join(' UNION ALL ')})`;
  await commitQuery(engine, lake, query, file, { tmpDir: o.tmpDir, compression: 'zstd', unordered: true });
  await withTableLock(lake, c, async () => {
    // Re-read: another writer of this process may have committed since the lookup.
    const state = await readBronzeState(lake, c);
    state.index = state.index.filter((i) => i.file !== file);
    state.index.push({ file, covers: [...o.held.uncovered, ...o.outputs] });
    if (o.dates) state.dates = { ...state.dates, ...o.dates };
    await writeBronzeState(lake, c, state);
    if (state.index.length > MAX_INDEX_FILES) await mergeIndex(engine, lake, c, state, o.name, o.tmpDir);
  });
}

/** One index file instead of many: write the merged file, commit the state naming it, then delete the old ones. */
async function mergeIndex(engine: Engine, lake: Lake, c: TableContract, state: BronzeTableState, name: string, tmpDir: string): Promise<void> {
  const old = state.index;
  const local = await Promise.all(old.map((i) => lake.localPath(i.file)));
  const file = joinLake(indexDirOf(c), `idx-merged-${name}.parquet`);
  await commitQuery(engine, lake, `SELECT DISTINCT _record_hash FROM read_parquet(${litList(local)})`, file, { tmpDir, compression: 'zstd', unordered: true });
  state.index = [{ file, covers: [...new Set(old.flatMap((i) => i.covers))].sort() }];
  await writeBronzeState(lake, c, state);
  for (const i of old) if (i.file !== file) await lake.delete(i.file);
}
