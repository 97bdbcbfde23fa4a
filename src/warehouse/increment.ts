// What a load of a day-partitioned fact reads: the days changed since the last load, not every day held.
// OPS.LOAD_STATE remembers, per table, the source dataset's lineage and commit sequence number and the as-of date the
// last load read (written in the load's transaction, so it moves with the rows). The dataset's change log since that
// number names the days its commits rewrote; with the days between the old and new as-of date (they enter or leave
// the load's cut), those are the days whose rows can differ between the target and the source. Without a usable mark
// (first load, full refresh, a rebuilt dataset, a change log that no longer reaches back) every day is compared.
import { getDataset } from '../catalogue/index.ts';
import { changesSince, isDayPartition, readDatasetState, type DatasetState } from '../catalogue/partitioned.ts';
import type { Lake } from '../lake/lake.ts';
import { addDays } from '../runtime/days.ts';
import type { Dialect, TableDdl } from './dialect.ts';
import type { TableIncrement } from './load-plan.ts';
import { sourceFiles } from './model.ts';
import { OPS_SCHEMA, T, type WarehouseTable } from './types.ts';

export const LOAD_STATE_TABLE = 'LOAD_STATE';

export const LOAD_STATE_DDL: TableDdl = {
  schema: OPS_SCHEMA,
  name: LOAD_STATE_TABLE,
  comment: 'Per table read from a day-partitioned Gold dataset or a batch log: how far the last load read it (the next load reads the days changed, or the batches written, since)',
  primaryKey: ['SCHEMA_NAME', 'TABLE_NAME'],
  clusterBy: [],
  columns: [
    { name: 'SCHEMA_NAME', type: T.varchar, comment: 'Schema of the loaded table' },
    { name: 'TABLE_NAME', type: T.varchar, comment: 'Loaded table' },
    { name: 'SOURCE_LINEAGE', type: T.varchar, comment: "Lineage of the Gold dataset's state (a dataset rebuilt from nothing has another); a batch log: 'batches'" },
    { name: 'SOURCE_SEQ', type: T.bigint, comment: 'Commit sequence number of the Gold dataset the load read (a batch log: the highest batch number read)' },
    { name: 'AS_OF_DATE', type: T.date, comment: 'As-of date the load cut the dataset at' },
    { name: '_LOAD_ID', type: T.varchar, comment: 'Load that first read the dataset that far' },
  ],
};

/** How far a load read a day-partitioned dataset. */
export interface LoadMark {
  lineage: string;
  seq: number;
  asOf: string;
}

/** The mark a load of `state` as of `asOf` leaves. */
export function markOf(state: DatasetState, asOf: string): LoadMark {
  return { lineage: state.lineage ?? '', seq: state.seq, asOf };
}

/**
 * The days whose rows may differ between a target loaded up to `mark` and the dataset now, cut at `asOf`; undefined
 * when that cannot be told from the change log (compare every day).
 */
export function changedDays(state: DatasetState, mark: LoadMark | undefined, asOf: string): string[] | undefined {
  if (!mark || mark.lineage !== (state.lineage ?? '') || mark.seq > state.seq) return undefined;
  const since = changesSince(state, mark.seq);
  if (!since) return undefined;
  const days = new Set(since.flatMap((e) => e.partitions).filter(isDayPartition));
  // Days between the two cuts: entering (as-of moved on) or leaving (moved back; the target holds them, the change
  // log need not name them).
  const [lo, hi] = mark.asOf <= asOf ? [mark.asOf, asOf] : [asOf, mark.asOf];
  if (lo !== hi) {
    for (const p of Object.keys(state.partitions)) if (isDayPartition(p) && p > lo && p <= hi) days.add(p);
    if (asOf < mark.asOf) for (let d = next(asOf); d <= mark.asOf; d = next(d)) days.add(d);
  }
  // Past both cuts a day is in neither the target nor the source.
  const top = hi;
  return [...days].filter((p) => p <= top).sort();
}

const next = (day: string) => addDays(day, 1);

/** The lake files of the given days, cut at the as-of date. */
export function filesOfDays(state: DatasetState, days: readonly string[], asOf: string): string[] {
  return days.filter((p) => p <= asOf).flatMap((p) => state.partitions[p] ?? []).sort();
}

/**
 * A SQL predicate keeping rows whose `column` (DATE or TIMESTAMP) falls on one of `days`, as ranges over runs of
 * consecutive days (a range on the column itself lets the engine skip row groups by their min/max).
 */
export function dayPredicate(column: string, days: readonly string[], date: (iso: string) => string): string {
  if (days.length === 0) return 'false';
  const sorted = [...new Set(days)].sort();
  const runs: [string, string][] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && next(last[1]) === d) last[1] = d;
    else runs.push([d, d]);
  }
  return `(${runs.map(([a, b]) => `(${column} >= ${date(a)} AND ${column} < ${date(next(b))})`).join(' OR ')})`;
}

/**
 * A table's increment for a load as of `asOf`: the mark it leaves and, unless every day is to be compared
 * (`compareAll`: first load, full refresh), the changed days and their files. Undefined for a table whose whole
 * source is compared (neither day-partitioned with state nor a batch log).
 */
export async function planIncrement(
  lake: Lake,
  t: WarehouseTable,
  asOf: string,
  o: { mark?: LoadMark; compareAll?: boolean; state?: DatasetState; files?: readonly string[] },
): Promise<{ increment: TableIncrement; files: string[] } | undefined> {
  if (t.strategy === 'append') return planBatches(t, asOf, { ...o, files: o.files ?? (await sourceFiles(lake, t, asOf)) });
  if (!t.dayColumn) return undefined;
  const state = o.state ?? (await readDatasetState(lake, getDataset(t.source).path));
  if (!state) return undefined;
  const mark = markOf(state, asOf);
  const days = o.compareAll ? undefined : changedDays(state, o.mark, asOf);
  if (!days) return { increment: { mark }, files: filesOfDays(state, Object.keys(state.partitions), asOf) };
  return { increment: { mark, days }, files: filesOfDays(state, days, asOf) };
}

/** Lineage recorded for a batch log (OPS.LOAD_STATE.SOURCE_LINEAGE; its SOURCE_SEQ: the highest batch read). */
export const BATCH_LINEAGE = 'batches';

const batchOf = (file: string): number | undefined => {
  const m = /(?:^|\/)batch-(\d+)\.parquet$/.exec(file);
  return m ? Number(m[1]) : undefined;
};

/**
 * An append table over a batch log (every file of the as-of folder is batch-N.parquet, N rising, a committed batch
 * never rewritten: profile changes, audience events): its rows are only ever inserted by key, so the batches the
 * last load of the same folder read are in the target already and only the later ones are read. Another as-of
 * folder, a log whose highest batch is behind the mark (rebuilt from nothing), a first load or a full refresh: every
 * batch of the folder is read. Not a batch log (the model registry's files, rewritten per model): undefined.
 */
function planBatches(t: WarehouseTable, asOf: string, o: { mark?: LoadMark; compareAll?: boolean; files: readonly string[] }): { increment: TableIncrement; files: string[] } | undefined {
  const batches = o.files.map((f) => ({ f, n: batchOf(f) }));
  if (batches.length === 0 || batches.some((b) => b.n === undefined)) return undefined;
  const top = Math.max(...batches.map((b) => b.n!));
  const mark: LoadMark = { lineage: BATCH_LINEAGE, seq: top, asOf };
  const all = [...o.files].sort();
  const m = o.mark;
  if (o.compareAll || !m || m.lineage !== BATCH_LINEAGE || m.asOf !== asOf || m.seq > top) return { increment: { mark }, files: all };
  const files = batches.filter((b) => b.n! > m.seq).map((b) => b.f).sort();
  return { increment: { mark, files: files.map((f) => f.slice(f.lastIndexOf('/') + 1)) }, files };
}

/** The query reading the marks a warehouse holds (OPS.LOAD_STATE's columns but the load id, dates as YYYY-MM-DD text), for marksFrom. */
export function renderMarksQuery(d: Dialect): string {
  const cols = LOAD_STATE_DDL.columns.filter((c) => c.name !== '_LOAD_ID')
    .map((c) => (c.type.kind === 'date' ? `${d.dateText(d.ident(c.name))} AS ${d.ident(c.name)}` : d.ident(c.name)));
  return `SELECT ${cols.join(', ')} FROM ${d.qualified(LOAD_STATE_DDL.schema, LOAD_STATE_DDL.name)}`;
}

/** The marks a warehouse holds, by `SCHEMA.TABLE`, from the rows of renderMarksQuery. */
export function marksFrom(rows: readonly Record<string, unknown>[]): Map<string, LoadMark> {
  return new Map(rows.map((r) => [`${r.SCHEMA_NAME}.${r.TABLE_NAME}`, { lineage: String(r.SOURCE_LINEAGE ?? ''), seq: Number(r.SOURCE_SEQ), asOf: String(r.AS_OF_DATE).slice(0, 10) }]));
}
