// Per-table Bronze state, `bronze/customer360/<dir>/_state.json`: the dedupe index files with the data files each
// covers, and the committed compactions. It is written after the files it names (data first,
// then state), so a crash leaves files the state does not name yet: readers ignore an uncommitted compaction output,
// and the dedupe lookup reads the hashes of uncovered files directly until the next ingest folds them in.
// One writer per table at a time (a table's ingestion and compaction run in one activity).
import type { TableContract } from '../../schemas/contract.ts';
import type { Lake } from '../lake/lake.ts';
import { joinLake } from '../lake/lake.ts';
import { bronzeDirOf, quarantineDirOf } from './paths.ts';

export interface Compaction {
  /** The compacted file (lake path). */
  output: string;
  /** The small files it replaces (lake paths); readers skip them once this entry is committed. */
  replaces: string[];
}

export interface IndexFile {
  /** Lake path of a Parquet file with one column, `_record_hash`. */
  file: string;
  /** Bronze and quarantine files (lake paths) whose every hash it holds. */
  covers: string[];
}

export interface BronzeTableState {
  version: 1;
  /**
   * The dedupe index. A data file counts as covered only through an index file named here that exists, so a lost
   * state update or a missing index file makes files uncovered (read directly), never wrongly covered.
   */
  index: IndexFile[];
  /** Committed compactions: their outputs are visible, the files they replace are not. */
  compactions: Compaction[];
  /**
   * Earliest and latest event date of each Bronze file with dated rows, recorded at ingest: the default as-of date
   * comes from here without opening (on ADLS: downloading) the files. A file missing here has its footer read.
   */
  dates?: Record<string, [string, string]>;
}

export const COMPACT_PREFIX = 'compact-';

export const bronzeStatePath = (c: TableContract): string => joinLake(bronzeDirOf(c), '_state.json');
/** The dedupe index lives beside Bronze, not under it, so Bronze readers never list it. */
export const indexDirOf = (c: TableContract): string => joinLake('bronze/_index/customer360', c.bronzeDir);

export function emptyState(): BronzeTableState {
  return { version: 1, index: [], compactions: [] };
}

export async function readBronzeState(lake: Lake, c: TableContract): Promise<BronzeTableState> {
  const path = bronzeStatePath(c);
  if (!(await lake.exists(path))) return emptyState();
  const s = JSON.parse((await lake.read(path)).toString('utf8')) as Partial<BronzeTableState>;
  return { version: 1, index: s.index ?? [], compactions: s.compactions ?? [], dates: s.dates ?? {} };
}

export async function writeBronzeState(lake: Lake, c: TableContract, s: BronzeTableState): Promise<void> {
  await lake.write(bronzeStatePath(c), JSON.stringify(s));
}

const fileName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/**
 * The Bronze files a reader sees, given the listing and the state: a committed compaction's output instead of the
 * files it replaces; an uncommitted compaction output (a crash before its state commit) not at all.
 */
export function visibleFiles(listed: readonly string[], s: BronzeTableState): string[] {
  const replaced = new Set(s.compactions.flatMap((x) => x.replaces));
  const outputs = new Set(s.compactions.map((x) => x.output));
  return listed.filter((p) => p.endsWith('.parquet') && !replaced.has(p) && (!fileName(p).startsWith(COMPACT_PREFIX) || outputs.has(p)));
}

/** Lake paths of a table's visible Bronze Parquet files, sorted. */
export async function bronzeDataFiles(lake: Lake, c: TableContract, state?: BronzeTableState): Promise<string[]> {
  const s = state ?? (await readBronzeState(lake, c));
  return visibleFiles((await lake.list(bronzeDirOf(c))).map((f) => f.path), s);
}

/** Lake paths of a table's quarantine Parquet files (never compacted). */
export async function quarantineDataFiles(lake: Lake, c: TableContract): Promise<string[]> {
  return (await lake.list(quarantineDirOf(c))).map((f) => f.path).filter((p) => p.endsWith('.parquet'));
}
