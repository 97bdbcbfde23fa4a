// Gold datasets derived from the daily aggregates and partitioned by the start of their period (event_date=P/, state
// like the aggregates'): the activity aggregates (a row per day, ISO week and month) and the daily funnel. A row whose
// period starts on P depends only on the aggregates' days of that period, so a changed aggregate day D touches the
// periods holding D (its day, its week's Monday, its month's first day) and nothing else: those partitions are
// recomputed from the aggregates' days of their periods (the dataset's declared SQL read over views of only those
// days), everything else is kept. The aggregates' change logs (since the sequence numbers this dataset consumed) say
// which days changed; without them (first run, full refresh, new definition, a log that no longer reaches back)
// every period is recomputed. Readers take the partitions up to their as-of date: a week or month starting on or
// before it sums the days of the period up to the as-of date the dataset was last maintained as of (recorded in its
// state: a run as of another date recomputes the periods of the days between the two).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ComputeParams, Dataset } from '../catalogue/dataset.ts';
import { changesSince, commitInputsOnly, commitPartitions, dayPartitions, emptyDatasetState, isDayPartition, readDatasetSql, readDatasetState, type DatasetState } from '../catalogue/partitioned.ts';
import { conformSql, emptySql } from '../catalogue/runner.ts';
import { ident, type Engine } from '../engine/duckdb.ts';
import { addDays } from '../runtime/days.ts';
import type { JobContext } from '../runtime/job.ts';
import type { DailyAggregate } from './daily-aggregates.ts';
import type { MaintainResult } from './day-partitioned.ts';

export type Period = 'DAY' | 'WEEK' | 'MONTH';

/** A Gold SQL dataset over g_<aggregate> views, maintained by the period start its rows carry (dayColumn). */
export interface DerivedByDay extends Dataset {
  dayColumn: string;
  /** The daily aggregates its SQL reads (as g_<name>). */
  derivedFrom: readonly DailyAggregate[];
  /** The periods its rows summarise: a row's period start is its day, its ISO week's Monday or its month's first day. */
  periods: readonly Period[];
}

interface DerivedInputs {
  aggregates: Record<string, number>;
  definition: string;
  /** The as-of date the periods were computed as of (their rows sum the days up to it). */
  asOf: string;
}

const toDate = (d: string) => new Date(`${d}T00:00:00Z`);
const iso = (t: Date) => t.toISOString().slice(0, 10);
const monday = (d: string) => addDays(d, -((toDate(d).getUTCDay() + 6) % 7));
const monthStart = (d: string) => `${d.slice(0, 8)}01`;
const monthEnd = (d: string) => {
  const t = toDate(monthStart(d));
  return iso(new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)));
};

/** The period starts whose rows a day's data enters. */
export function periodStartsOf(day: string, periods: readonly Period[]): string[] {
  return [...new Set(periods.map((p) => (p === 'DAY' ? day : p === 'WEEK' ? monday(day) : monthStart(day))))];
}

/** The days (inclusive range) the rows of a partition (period start P) are computed from. */
export function daysOfPeriodStart(p: string, periods: readonly Period[]): [string, string] {
  let end = p;
  if (periods.includes('WEEK') && monday(p) === p) end = addDays(p, 6) > end ? addDays(p, 6) : end;
  if (periods.includes('MONTH') && monthStart(p) === p) end = monthEnd(p) > end ? monthEnd(p) : end;
  return [p, end];
}

/** Declares a Gold SQL dataset over the daily aggregates as maintained by period start. */
export function derivedByDay(ds: Dataset, o: { dayColumn: string; derivedFrom: readonly DailyAggregate[]; periods: readonly Period[] }): DerivedByDay {
  if (!ds.sql) throw new Error(`${ds.name}: derivedByDay needs a SQL dataset`);
  return { ...ds, maintenance: 'incremental-by-time', ...o };
}

export const isDerivedByDay = (ds: Dataset): ds is DerivedByDay => 'derivedFrom' in ds;


/** Brings a derived dataset up to date with the aggregates (see the header); data first, then state, as the aggregates do. */
export async function maintainDerivedByDay(ctx: JobContext, engine: Engine, ds: DerivedByDay, o: { full: boolean; params: ComputeParams }): Promise<MaintainResult> {
  const lake = ctx.lake;
  const prev = await readDatasetState(lake, ds.path);
  const consumed = prev?.inputs as DerivedInputs | undefined;
  const sources = new Map<DailyAggregate, DatasetState | undefined>();
  for (const a of ds.derivedFrom) sources.set(a, await readDatasetState(lake, a.path));
  const sql = ds.sql!(o.params);
  const definition = createHash('sha256').update(`${sql}\n${JSON.stringify(ds.columns)}\n${ds.periods.join(',')}`).digest('hex').slice(0, 16);
  const asOf = o.params.asOf;
  const inputs: DerivedInputs = { aggregates: Object.fromEntries(ds.derivedFrom.map((a) => [a.name, sources.get(a)?.seq ?? 0])), definition, asOf };
  let full = o.full || !prev || !consumed?.aggregates || consumed.definition !== definition;
  const changedDays = new Set<string>();
  if (!full) {
    for (const a of ds.derivedFrom) {
      const ch = changesSince(sources.get(a) ?? emptyDatasetState(), consumed!.aggregates[a.name] ?? 0);
      if (!ch) {
        full = true;
        break;
      }
      for (const e of ch) for (const p of e.partitions) if (isDayPartition(p)) changedDays.add(p);
    }
    // Another as-of date: the days between the two enter or leave the periods holding them.
    if (!full && consumed!.asOf !== asOf) {
      const [lo, hi] = [consumed!.asOf ?? '', asOf].sort() as [string, string];
      const days = new Set([...ds.derivedFrom.flatMap((a) => dayPartitions(sources.get(a))), ...Object.keys(prev!.partitions)]);
      for (const d of days) if (d > lo && d <= hi) changedDays.add(d);
    }
  }
  const touched = new Set<string>();
  if (full) {
    for (const a of ds.derivedFrom) for (const d of dayPartitions(sources.get(a))) if (d <= asOf) for (const p of periodStartsOf(d, ds.periods)) touched.add(p);
    for (const p of Object.keys(prev?.partitions ?? {})) touched.add(p);
  } else {
    for (const d of changedDays) for (const p of periodStartsOf(d, ds.periods)) touched.add(p);
  }
  if (touched.size === 0) {
    if (prev && JSON.stringify(consumed) !== JSON.stringify(inputs)) await commitInputsOnly(lake, ds.path, prev, inputs as unknown as Record<string, unknown>);
    return { mode: 'unchanged', days: 0, rows: 0, files: [] };
  }
  // The aggregates' days of the touched periods, as views dd_<aggregate> the declared SQL reads instead of g_<aggregate>.
  const ranges = [...touched].map((p) => daysOfPeriodStart(p, ds.periods));
  // (the days up to the as-of date: a period's rows sum its days the as-of date covers, as a snapshot's would)
  const needed = (d: string) => d <= asOf && ranges.some(([a, b]) => d >= a && d <= b);
  const files: string[] = [];
  let query = sql;
  for (const a of ds.derivedFrom) {
    const st = sources.get(a);
    const days = dayPartitions(st).filter(needed).sort();
    const view = `dd_${a.name}`;
    const read = days.flatMap((d) => st!.partitions[d] ?? []);
    files.push(...read);
    await engine.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT * FROM ${await readDatasetSql(lake, read, emptySql(a))}`);
    query = query.replace(new RegExp(`\\bg_${a.name}\\b`, 'g'), view);
  }
  const shaped = await conformSql(engine, ds, query);
  const day = ident(ds.dayColumn);
  const list = [...touched].map((p) => `'${p}'`).join(', ');
  const order = [day, ...ds.primaryKey.filter((k) => k !== ds.dayColumn).map(ident)].join(', ');
  await engine.run(`CREATE OR REPLACE TEMP TABLE dd_out AS SELECT * FROM (SELECT *, strftime(CAST(${day} AS DATE), '%Y-%m-%d') AS __p FROM (${shaped}))
WHERE __p IN (${list}) ORDER BY ${order}`);
  const base = full ? { ...emptyDatasetState(), seq: prev?.seq ?? 0, partitions: prev?.partitions ?? {}, ...(prev?.lineage ? { lineage: prev.lineage } : {}) } : prev!;
  const r = await commitPartitions(engine, lake, ds.path, base, {
    relation: 'dd_out',
    touched: [...touched].sort(),
    inputs: inputs as unknown as Record<string, unknown>,
    tmpDir: join(ctx.home, 'tmp', 'gold'),
    fault: `${ds.job}:${ds.name}`,
  });
  ctx.report.outputs.push(...r.written);
  return { mode: full ? 'full' : 'incremental', days: touched.size, rows: r.rows, files };
}
