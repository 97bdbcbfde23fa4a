// Per-key lifetime totals of a daily aggregate (gold/aggregates/<name>/, one file, `_state.json`): every day of the
// aggregate summed by key (a person; a person, touchpoint and channel), so the profile reads one row per key instead
// of every day of history. Maintained by gold-daily with the aggregate: before the aggregate commits its recomputed
// days, the new rows of those days are added to the totals and the rows they replace subtracted (sums and counts are
// exact: integers and decimals). A min or max cannot be subtracted: it is kept when the replaced rows did not hold it
// or the new rows reach it, and otherwise (a correction lowering a person's latest purchase) that key is summed again
// from every day. The state records the aggregate's sequence number and lineage it matches; anything else (first
// run, full refresh, a crash between the two commits, a new definition) rebuilds it from every day of the aggregate.
// Readers use it only when it matches the aggregate and the aggregate holds no day after their as-of date; a past
// as-of date sums the aggregate's days up to it instead (the same definition).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { columns, duckType, type ColumnSpec, type Dataset, type DatasetType } from '../catalogue/dataset.ts';
import { commitPartitions, dayPartitions, emptyDatasetState, readDatasetSql, readDatasetState, type DatasetState } from '../catalogue/partitioned.ts';
import { emptySql } from '../catalogue/runner.ts';
import { ident, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { JobContext } from '../runtime/job.ts';
import { registerDayPartitioned, type DayPartitioned } from './day-partitioned.ts';

export interface Lifetime extends Dataset {
  /** The dataset partitioned by day summed (a daily aggregate, consent evidence). */
  of: DayPartitioned;
  /** Columns identifying a key (the aggregate's key without its day). */
  key: readonly string[];
  /** Rows of the aggregate that count (SQL over its columns). */
  where: string;
  /** Aggregate columns summed (same names). */
  sums: readonly string[];
  /** Extremes over the counted rows: name, min or max, the expression and the rows it is taken over. */
  extremes: readonly { name: string; fn: 'min' | 'max'; expr: string; filter: string; type: DatasetType; comment: string }[];
}

const sumType = (t: DatasetType): DatasetType => (t.kind === 'decimal' ? { kind: 'decimal', precision: 38, scale: t.scale } : { kind: 'bigint' });

export function lifetime(o: Pick<Lifetime, 'name' | 'of' | 'key' | 'where' | 'sums' | 'extremes' | 'description'>): Lifetime {
  const typeOf = (c: string) => {
    const col = o.of.columns.find((x) => x.name === c);
    if (!col) throw new Error(`${o.name}: ${o.of.name} has no column ${c}`);
    return col;
  };
  const specs: ColumnSpec[] = [
    ...o.key.map((k): ColumnSpec => [k, typeOf(k).type, typeOf(k).comment]),
    ...o.sums.map((c): ColumnSpec => [c, sumType(typeOf(c).type), `Sum over the days: ${typeOf(c).comment}`]),
    ['N_DAYS', { kind: 'bigint' }, `Days of ${o.of.name} summed`],
    ...o.extremes.map((e): ColumnSpec => [e.name, e.type, e.comment]),
  ];
  return {
    ...o,
    layer: 'gold',
    path: o.of.path.replace(/[^/]+$/, o.name),
    grain: `one row per (${o.key.join(', ')}) with a counted day in ${o.of.name}`,
    columns: columns(specs),
    primaryKey: o.key,
    inputs: [o.of.name],
    maintenance: 'merge-by-key',
    job: o.of.job,
  };
}

const keys = (lt: Lifetime) => lt.key.map(ident).join(', ');

/** The totals of every key over a relation of the aggregate's rows. */
function totalsSql(lt: Lifetime, rows: string): string {
  return `SELECT ${[
    keys(lt),
    ...lt.sums.map((c) => `CAST(COALESCE(sum(${ident(c)}), 0) AS ${sumTypeOf(lt, c)}) AS ${ident(c)}`),
    'count(*) AS N_DAYS',
    ...lt.extremes.map((e) => `${e.fn}(${e.expr}) FILTER (WHERE ${e.filter}) AS ${ident(e.name)}`),
  ].join(',\n  ')}
FROM ${rows} WHERE ${lt.where} GROUP BY ALL`;
}

const sumTypeOf = (lt: Lifetime, c: string) => duckType(lt.columns.find((x) => x.name === c)!.type);

/**
 * The totals after replacing some days: `state` the totals before, `old` the replaced rows of those days, `now` their
 * new rows. Keys whose extreme cannot be told from the change come out with __dirty (summed again by the caller).
 */
function mergedSql(lt: Lifetime, state: string, old: string, now: string): string {
  const on = lt.key.map((k) => `s.${ident(k)} = d.${ident(k)}`).join(' AND ');
  const cmp = (fn: 'min' | 'max') => (fn === 'max' ? { lt: '<', ge: '>=', pick: 'greatest' } : { lt: '>', ge: '<=', pick: 'least' });
  const ref = (e: Lifetime['extremes'][number]) => [`s.${ident(e.name)}`, `d.${ident(`__old_${e.name}`)}`, `d.${ident(`__new_${e.name}`)}`] as const;
  const delta = [
    keys(lt),
    ...lt.sums.map((c) => `sum(__sign * ${ident(c)}) AS ${ident(c)}`),
    'sum(__sign) AS N_DAYS',
    ...lt.extremes.flatMap((e) => [
      `${e.fn}(${e.expr}) FILTER (WHERE __sign = -1 AND ${e.filter}) AS ${ident(`__old_${e.name}`)}`,
      `${e.fn}(${e.expr}) FILTER (WHERE __sign = 1 AND ${e.filter}) AS ${ident(`__new_${e.name}`)}`,
    ]),
  ];
  const merged = [
    ...lt.key.map((k) => `COALESCE(s.${ident(k)}, d.${ident(k)}) AS ${ident(k)}`),
    ...lt.sums.map((c) => `CAST(COALESCE(s.${ident(c)}, 0) + COALESCE(d.${ident(c)}, 0) AS ${sumTypeOf(lt, c)}) AS ${ident(c)}`),
    'CAST(COALESCE(s.N_DAYS, 0) + COALESCE(d.N_DAYS, 0) AS BIGINT) AS N_DAYS',
    // untouched key: kept; the replaced rows did not hold it: it stands, or a new row passes it; else the new rows
    // must reach it
    ...lt.extremes.map((e) => {
      const c = cmp(e.fn);
      const [s, o, n] = ref(e);
      return `CASE WHEN d.N_DAYS IS NULL THEN ${s} WHEN ${o} IS NULL OR ${o} ${c.lt} ${s} THEN ${c.pick}(${s}, ${n}) WHEN ${n} ${c.ge} ${s} THEN ${n} END AS ${ident(e.name)}`;
    }),
    `${lt.extremes.length ? lt.extremes.map((e) => {
      const c = cmp(e.fn);
      const [s, o, n] = ref(e);
      return `(d.N_DAYS IS NOT NULL AND ${o} IS NOT NULL AND (${s} IS NULL OR (NOT (${o} ${c.lt} ${s}) AND (${n} IS NULL OR NOT (${n} ${c.ge} ${s})))))`;
    }).join(' OR ') : 'false'} AS __dirty`,
  ];
  return `WITH ch AS (
  SELECT *, -1 AS __sign FROM ${old} WHERE ${lt.where}
  UNION ALL BY NAME
  SELECT *, 1 AS __sign FROM ${now} WHERE ${lt.where}
), d AS (
  SELECT ${delta.join(',\n    ')}
  FROM ch GROUP BY ALL
)
SELECT ${merged.join(',\n  ')}
FROM ${state} s FULL OUTER JOIN d ON ${on}`;
}

interface LifetimeInputs {
  /** The aggregate's commit the totals match. */
  seq: number;
  lineage?: string;
  definition: string;
}

const definitionOf = (lt: Lifetime) =>
  createHash('sha256').update(`${totalsSql(lt, 'x')}\n${mergedSql(lt, 's', 'o', 'n')}\n${JSON.stringify(lt.columns)}`).digest('hex').slice(0, 16);

function matches(lt: Lifetime, state: DatasetState | undefined, of: DatasetState | undefined): boolean {
  const i = state?.inputs as LifetimeInputs | undefined;
  return !!i && !!of && i.seq === of.seq && i.lineage === of.lineage && i.definition === definitionOf(lt);
}

/**
 * Maintains a lifetime alongside its aggregate's maintenance: `prepare` (before the aggregate commits) computes the
 * new totals from the old ones and the replaced and new rows of the recomputed days; `commit` (after) writes them,
 * or rebuilds them from every day when they could not be carried forward.
 */
export class LifetimeMaintainer {
  private prepared = false;
  private before?: DatasetState;
  private table: string;
  mode: 'unchanged' | 'incremental' | 'full' = 'unchanged';
  dirty = 0;

  constructor(private ctx: JobContext, private engine: Engine, readonly lt: Lifetime) {
    this.table = `lt_next_${lt.name}`;
  }

  /** Reads the states; call before the aggregate is maintained. */
  async start(full: boolean): Promise<void> {
    const [mine, of] = await Promise.all([readDatasetState(this.ctx.lake, this.lt.path), readDatasetState(this.ctx.lake, this.lt.of.path)]);
    if (!full && matches(this.lt, mine, of)) this.before = mine;
  }

  /** The aggregate is about to replace `days` (their old files `replaced`) with the rows of `relation` (its commit relation). */
  async prepare(c: { full: boolean; replaced: readonly string[]; relation: string }): Promise<void> {
    if (c.full || !this.before) return;
    const lake = this.ctx.lake;
    const state = await readDatasetSql(lake, Object.values(this.before.partitions).flat(), emptySql(this.lt));
    const old = await readDatasetSql(lake, c.replaced, emptySql(this.lt.of));
    await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${this.table}_m AS ${mergedSql(this.lt, state, old, `(SELECT * EXCLUDE (__p) FROM ${c.relation})`)}`);
    this.dirty = Number(await this.engine.scalar(`SELECT count(*) FROM ${this.table}_m WHERE __dirty`));
    let again = '';
    if (this.dirty > 0) {
      // Keys whose extreme the change cannot tell: summed again over the aggregate as it will be (its other days'
      // files and the new rows).
      const of = (await readDatasetState(lake, this.lt.of.path))!;
      const keep = Object.values(of.partitions).flat().filter((f) => !c.replaced.includes(f));
      const all = `(SELECT * FROM ${await readDatasetSql(lake, keep, emptySql(this.lt.of))} UNION ALL BY NAME SELECT * EXCLUDE (__p) FROM ${c.relation})`;
      const k = keys(this.lt);
      again = `UNION ALL BY NAME SELECT t.* FROM (${totalsSql(this.lt, all)}) t SEMI JOIN (SELECT ${k} FROM ${this.table}_m WHERE __dirty) USING (${k})`;
    }
    await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${this.table} AS SELECT * EXCLUDE (__dirty) FROM ${this.table}_m WHERE N_DAYS > 0 AND NOT __dirty ${again}`);
    this.prepared = true;
  }

  /** After the aggregate's maintenance: commits the prepared totals, or rebuilds them, unless they already match. */
  async commit(): Promise<void> {
    const lake = this.ctx.lake;
    const [mine, of] = await Promise.all([readDatasetState(lake, this.lt.path), readDatasetState(lake, this.lt.of.path)]);
    if (!of) return;
    if (matches(this.lt, mine, of)) return;
    if (!this.prepared || !this.before || (this.before.inputs as unknown as LifetimeInputs).seq !== of.seq - 1) {
      this.mode = 'full';
      const all = await readDatasetSql(lake, Object.values(of.partitions).flat(), emptySql(this.lt.of));
      await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${this.table} AS ${totalsSql(this.lt, all)}`);
    } else this.mode = 'incremental';
    const inputs: LifetimeInputs = { seq: of.seq, ...(of.lineage ? { lineage: of.lineage } : {}), definition: definitionOf(this.lt) };
    const cols = this.lt.columns.map((c) => ident(c.name)).join(', ');
    await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${this.table}_out AS SELECT ${cols}, '' AS __p FROM ${this.table} ORDER BY ${keys(this.lt)}`);
    const r = await commitPartitions(this.engine, lake, this.lt.path, mine ?? emptyDatasetState(), {
      relation: `${this.table}_out`,
      touched: [''],
      inputs: inputs as unknown as Record<string, unknown>,
      tmpDir: join(this.ctx.home, 'tmp', 'gold'),
      fault: `${this.lt.job}:${this.lt.name}`,
    });
    this.ctx.report.outputs.push(...r.written);
    this.ctx.report.rowCounts[this.lt.name] = r.rows;
  }
}

/**
 * Registers `view` with a lifetime's totals as of `asOf`: its file when it matches the aggregate and the aggregate
 * holds no day after the as-of date, else summed from the aggregate's days up to the as-of date.
 */
export async function registerLifetime(engine: Engine, lake: Lake, lt: Lifetime, asOf: string, view: string): Promise<{ files: string[]; from: 'state' | 'days' }> {
  const [mine, of] = await Promise.all([readDatasetState(lake, lt.path), readDatasetState(lake, lt.of.path)]);
  const last = dayPartitions(of).sort().at(-1);
  if (mine && matches(lt, mine, of) && (!last || last <= asOf)) {
    const files = Object.values(mine.partitions).flat();
    await engine.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT * FROM ${await readDatasetSql(lake, files, emptySql(lt))}`);
    return { files, from: 'state' };
  }
  const days = `${view}_days`;
  const files = await registerDayPartitioned(engine, lake, lt.of, asOf, days);
  await engine.run(`CREATE OR REPLACE TEMP TABLE ${view} AS ${totalsSql(lt, days)}`);
  return { files, from: 'days' };
}
