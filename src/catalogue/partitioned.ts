// Datasets maintained incrementally, with their state in the lake. A dataset folder holds data files and
// `_state.json`: the files of each partition, the inputs consumed so far, a commit sequence number and the recent
// change files. A commit writes the new files of the touched partitions (named by sequence number, so a re-run
// after a crash rewrites the same names) and the change file first, then the state: readers that take the file list
// from the state (datasetDataFiles) see the dataset before or after a commit, never half of one. Files the new state
// no longer names are deleted after the commit.
//
// Partitions: `event_date=YYYY-MM-DD/part-<seq>.parquet` for datasets partitioned by event date (undated rows in
// `event_date=__HIVE_DEFAULT_PARTITION__`), or one file `part-0.parquet` (partition '') rewritten in place.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ident, lit, litList, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { joinLake } from '../lake/lake.ts';
import { parquetFiles } from '../lake/parquet.ts';
import { faultPoint } from '../runtime/fault.ts';

export const STATE_FILE = '_state.json';
export const PARTITION_COLUMN = 'event_date';
/** The partition of rows without an event date (Hive's name for a null partition value). */
export const NO_DATE = '__HIVE_DEFAULT_PARTITION__';
/** Change files kept; a consumer further behind than this rebuilds in full. */
const KEEP_CHANGES = 64;

export interface ChangeEntry {
  seq: number;
  /** Partitions the commit rewrote. */
  partitions: string[];
  /** Rows of the changed keys (every version the commit saw: the replaced and the new), when recorded. */
  file?: string;
}

export interface DatasetState {
  version: 1;
  seq: number;
  /** Partition value ('' for an unpartitioned dataset) -> lake paths of its files. */
  partitions: Record<string, string[]>;
  /** What the dataset has consumed, by input (Bronze files, upstream sequence numbers, ...). */
  inputs: Record<string, unknown>;
  changes: ChangeEntry[];
  /**
   * Drawn when the dataset's first commit is made and kept by every later one: a consumer that remembers a sequence
   * number (the warehouse load) tells a dataset rebuilt from nothing, whose numbers start again, from the one it read.
   */
  lineage?: string;
}

/** A partition holding one day's rows (YYYY-MM-DD), not the undated rows' nor an unpartitioned dataset's ''. */
export const isDayPartition = (p: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(p);

/** The day partitions a state holds. */
export const dayPartitions = (s: DatasetState | undefined): string[] => Object.keys(s?.partitions ?? {}).filter(isDayPartition);

export const statePath = (datasetPath: string) => joinLake(datasetPath, STATE_FILE);
/** Change files live outside the data folders, so no reader that lists a dataset folder picks them up. */
export const changesDir = (datasetPath: string) => joinLake(datasetPath.replace(/^silver\/customer360\//, 'silver/customer360/_changes/'));

export function emptyDatasetState(): DatasetState {
  return { version: 1, seq: 0, partitions: {}, inputs: {}, changes: [] };
}

export async function readDatasetState(lake: Lake, datasetPath: string): Promise<DatasetState | undefined> {
  const p = statePath(datasetPath);
  if (!(await lake.exists(p))) return undefined;
  return JSON.parse((await lake.read(p)).toString('utf8')) as DatasetState;
}

/** Lake paths of a dataset's data files: those its state names, else (a dataset written whole) every Parquet file. */
export async function datasetDataFiles(lake: Lake, datasetPath: string, state?: DatasetState): Promise<string[]> {
  const s = state ?? (await readDatasetState(lake, datasetPath));
  if (s) return Object.values(s.partitions).flat().sort();
  return parquetFiles(lake, datasetPath);
}

/** DuckDB relation over a dataset's files, partition folders not turned into columns; `empty` when it has none. */
export async function readDatasetSql(lake: Lake, files: readonly string[], empty: string): Promise<string> {
  if (files.length === 0) return `(${empty})`;
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  return `read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = false)`;
}

/** The partition value of a row: its event date as YYYY-MM-DD, NO_DATE when null; '' for an unpartitioned dataset. */
export function partitionSql(eventTime: string | undefined): string {
  return eventTime ? `coalesce(strftime(CAST(${ident(eventTime)} AS DATE), '%Y-%m-%d'), ${lit(NO_DATE)})` : "''";
}

/** Partition values `load-<id>` (datasets partitioned by Bronze load, not by date) live in folders `load=<id>`. */
export const LOAD_PARTITION_PREFIX = 'load-';

export function partitionDir(datasetPath: string, p: string): string {
  if (p.startsWith(LOAD_PARTITION_PREFIX)) return joinLake(datasetPath, `load=${p.slice(LOAD_PARTITION_PREFIX.length)}`);
  return p === '' ? datasetPath : joinLake(datasetPath, `${PARTITION_COLUMN}=${p}`);
}

export interface CommitOptions {
  /** Relation with the dataset's columns in order plus `__p` (the partition value), rows of the touched partitions only. */
  relation: string;
  /** Partitions being replaced: each gets the relation's rows for it, or is removed when there are none. */
  touched: readonly string[];
  /** Relation of the changed rows to record for downstream consumers (optional). */
  changes?: string;
  inputs: Record<string, unknown>;
  tmpDir: string;
  /** Name of the fault point between the data and the state commit (crash tests). */
  fault?: string;
}

/**
 * Commits one incremental step of a dataset (see the header). Returns the new state and the files written.
 * `state` is the state the step started from (a full rebuild passes an empty one with every old partition touched).
 */
export async function commitPartitions(engine: Engine, lake: Lake, datasetPath: string, state: DatasetState, o: CommitOptions): Promise<{ state: DatasetState; written: string[]; rows: number }> {
  const seq = state.seq + 1;
  const work = join(o.tmpDir, `commit-${randomUUID()}`);
  await mkdir(work, { recursive: true });
  const written: string[] = [];
  const next: DatasetState = { version: 1, seq, partitions: { ...state.partitions }, inputs: o.inputs, changes: [...state.changes], lineage: state.lineage ?? randomUUID() };
  let rows = 0;
  try {
    const counts = await engine.all<{ p: string; n: unknown }>(`SELECT __p AS p, count(*) AS n FROM ${o.relation} GROUP BY 1`);
    const present = new Set(counts.map((c) => c.p));
    for (const c of counts) rows += Number(c.n);
    for (const p of present) if (!o.touched.includes(p)) throw new Error(`${datasetPath}: rows for partition '${p}', which the commit does not touch`);
    for (const p of o.touched) delete next.partitions[p];
    const put = async (file: string, target: string, p: string) => {
      await lake.putFile(file, target);
      (next.partitions[p] ??= []).push(target);
      written.push(target);
    };
    if (o.touched.includes('')) {
      // Unpartitioned: one file (empty or not), rewritten in place (a single atomic commit).
      const tmp = join(work, 'part-0.parquet');
      await engine.run(`COPY (SELECT * EXCLUDE (__p) FROM ${o.relation}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
      await put(tmp, joinLake(datasetPath, 'part-0.parquet'), '');
    } else if (present.size > 0) {
      await engine.run(`COPY (SELECT * FROM ${o.relation}) TO ${lit(work)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (__p), FILENAME_PATTERN 'part_{i}', OVERWRITE_OR_IGNORE)`);
      for (const p of [...present].sort()) {
        const dir = join(work, `__p=${p}`);
        const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort();
        for (const [i, f] of files.entries()) await put(join(dir, f), joinLake(partitionDir(datasetPath, p), `part-${String(seq).padStart(6, '0')}-${i}.parquet`), p);
      }
    }
    let changeFile: string | undefined;
    if (o.changes) {
      changeFile = joinLake(changesDir(datasetPath), `seq-${String(seq).padStart(6, '0')}.parquet`);
      const tmp = join(work, 'changes.parquet');
      await engine.run(`COPY (SELECT * FROM ${o.changes}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
      await lake.putFile(tmp, changeFile);
    }
    next.changes.push({ seq, partitions: [...o.touched].sort(), ...(changeFile ? { file: changeFile } : {}) });
    const dropped = next.changes.length > KEEP_CHANGES ? next.changes.splice(0, next.changes.length - KEEP_CHANGES) : [];
    if (o.fault) faultPoint(o.fault);
    await lake.write(statePath(datasetPath), JSON.stringify(next));
    // After the commit: files no state names any more (replaced partitions, leftovers of a crashed step).
    const keep = new Set([...Object.values(next.partitions).flat()]);
    for (const f of await parquetFiles(lake, datasetPath)) if (!keep.has(f)) await lake.delete(f);
    for (const d of dropped) if (d.file) await lake.delete(d.file);
    return { state: next, written, rows };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Commits a state with new inputs and no data change (nothing new to process, but inputs moved on). */
export async function commitInputsOnly(lake: Lake, datasetPath: string, state: DatasetState, inputs: Record<string, unknown>): Promise<void> {
  await lake.write(statePath(datasetPath), JSON.stringify({ ...state, inputs }));
}

/** Change entries after `seq`, or undefined when some were already dropped (the consumer must rebuild in full). */
export function changesSince(state: DatasetState, seq: number): ChangeEntry[] | undefined {
  if (seq >= state.seq) return [];
  const since = state.changes.filter((c) => c.seq > seq);
  if (since.length !== state.seq - seq) return undefined;
  return since;
}
