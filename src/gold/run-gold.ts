// Runs the SQL datasets of one Gold job through the catalogue runner: the run's as-of date, the as-of-cut Silver
// inputs, shared relations once per job, each dataset shaped to its declaration and written atomically.
import type { Dataset } from '../catalogue/dataset.ts';
import { datasetsOfJob } from '../catalogue/index.ts';
import { computeParams, jobAsOf, writeDataset } from '../catalogue/runner.ts';
import type { Engine } from '../engine/duckdb.ts';
import type { Job, JobContext, JobParamSpec } from '../runtime/job.ts';
import { AGGREGATE_RELATIONS, aggregatesCurrent, maintainAggregates, registerAggregates } from './daily-aggregates.ts';
import { SHARED_RELATIONS } from './relations.ts';
import { registerSilverInputs, silverRelationsRead } from './silver-inputs.ts';
import { maintainDayPartitioned, registerDayPartitioned, type DayPartitioned } from './day-partitioned.ts';
import { isDerivedByDay, maintainDerivedByDay } from './derived-by-day.ts';
import { truthy } from '../silver/incremental.ts';
import { LifetimeMaintainer, registerLifetime, type Lifetime } from './lifetime.ts';
import { consentLifetime } from '../privacy/consent.ts';

/** Lifetime totals kept with a dataset by day that a Gold SQL job maintains (the daily aggregates' are gold-daily's). */
const JOB_LIFETIMES: readonly Lifetime[] = [consentLifetime];

export interface GoldRunHooks {
  /** Runs after the Silver inputs are registered, before the datasets (e.g. to register intelligence outputs). */
  prepare?(engine: Engine, asOf: string): Promise<void>;
}

export async function runGoldDatasets(ctx: JobContext, datasets: readonly Dataset[], hooks: GoldRunHooks = {}): Promise<string> {
  const asOf = await jobAsOf(ctx);
  const params = computeParams(ctx, asOf);
  const engine = await ctx.openEngine();
  try {
    // Datasets derived from the daily aggregates: bring them up to date first when the pipeline's gold-daily has not
    // (a job run alone), then read them.
    // (those partitioned by period read their periods' days themselves; the snapshots read the relations registered here)
    const snapshots = datasets.filter((d) => d.maintenance !== 'incremental-by-time');
    const readsAggregates = (d: Dataset) => AGGREGATE_RELATIONS.some((a) => new RegExp(`\\bg_${a}\\b`).test(d.sql?.(params) ?? ''));
    let lifetimes: Record<string, string> = {};
    if (datasets.some(readsAggregates)) {
      if (!(await aggregatesCurrent(ctx.lake))) await maintainAggregates(ctx, engine, { full: false });
      const r = await registerAggregates(engine, ctx.lake, asOf, snapshots.map((d) => d.sql?.(params) ?? ''));
      ctx.report.inputs.push(...r.files);
      // 'state': the lifetime totals kept with the aggregate; 'days': summed from its days (a past as-of date)
      lifetimes = r.lifetimes;
      if (Object.keys(lifetimes).length) ctx.report.metrics.lifetimes = lifetimes;
    }
    // Only the Silver relations the snapshot datasets read (those maintained by day read their days' partitions). The
    // persons with a transaction (s_universe) come from the lifetime totals when the job reads them, not from every
    // transaction.
    const purchasers = lifetimes.customer_lifetime ? 'SELECT CUSTOMER360_ID FROM g_customer_lifetime WHERE TRANSACTIONS > 0' : undefined;
    const read = silverRelationsRead(snapshots.map((d) => d.sql?.(params) ?? ''), { purchasers: !!purchasers });
    const inputs = await registerSilverInputs(engine, ctx.lake, asOf, read, purchasers ? { purchasers } : {});
    ctx.report.inputs.push(...inputs.files);
    if (inputs.missing.length) {
      ctx.report.metrics.missingSilver = inputs.missing;
      ctx.log.warn('Silver datasets missing, read as empty', { missing: inputs.missing.join(', ') });
    }
    await hooks.prepare?.(engine, asOf);
    const used = new Set(datasets.flatMap((d) => d.uses ?? []));
    for (const name of used) if (!SHARED_RELATIONS[name]) throw new Error(`Gold dataset uses unknown shared relation '${name}'`);
    for (const [name, sql] of Object.entries(SHARED_RELATIONS)) {
      if (used.has(name)) await engine.run(`CREATE OR REPLACE TEMP TABLE g_${name} AS ${sql}`);
    }
    const datasetMs: Record<string, number> = {};
    ctx.report.metrics.datasetMs = datasetMs;
    const full = truthy(ctx.params.fullRefresh);
    for (const ds of datasets) {
      // (lifetime totals are maintained with their dataset by day, below)
      if (JOB_LIFETIMES.some((l) => l.name === ds.name)) continue;
      if (!ds.sql) throw new Error(`Dataset ${ds.name} has no SQL compute`);
      const started = Date.now();
      if (isDerivedByDay(ds) || ds.maintenance === 'incremental-by-time') {
        // Partitioned by period start from the daily aggregates (derived-by-day.ts), or by day from Silver
        // (day-partitioned.ts): only the periods or days their inputs' change logs name are recomputed.
        const derived = isDerivedByDay(ds);
        // (a dataset by day with lifetime totals kept with it: maintained together, then read as g_<totals>)
        const lt = JOB_LIFETIMES.find((l) => l.of.name === ds.name);
        const m = lt ? new LifetimeMaintainer(ctx, engine, lt) : undefined;
        await m?.start(full);
        const r = derived
          ? await maintainDerivedByDay(ctx, engine, ds, { full, params })
          : await maintainDayPartitioned(ctx, engine, ds as DayPartitioned, { full, params, ...(m ? { beforeCommit: (c) => m.prepare(c) } : {}) });
        if (lt && m) {
          await m.commit();
          const read = await registerLifetime(engine, ctx.lake, lt, asOf, `g_${lt.name}`);
          ctx.report.inputs.push(...read.files);
          ctx.report.metrics.lifetimes = { ...(ctx.report.metrics.lifetimes as Record<string, string> | undefined), [lt.name]: read.from };
          ctx.report.metrics[`${lt.name}.maintain`] = { mode: m.mode, dirty: m.dirty };
        }
        ctx.report.inputs.push(...r.files);
        ctx.report.rowCounts[ds.name] = r.rows;
        ctx.report.metrics[`${ds.name}.maintain`] = derived
          ? { mode: r.mode, periods: r.days, aggregateFiles: r.files.length }
          : { mode: r.mode, days: r.days, silverFiles: r.files.length };
        // Read back by later datasets of the job: its days up to the as-of date.
        if (ds.keep) await registerDayPartitioned(engine, ctx.lake, ds as DayPartitioned, asOf, `g_${ds.name}`);
        datasetMs[ds.name] = Date.now() - started;
        continue;
      }
      let query = ds.sql(params);
      if (ds.keep) {
        await engine.run(`CREATE OR REPLACE TEMP TABLE g_${ds.name} AS ${query}`);
        query = `SELECT * FROM g_${ds.name}`;
      }
      const written = await writeDataset(ctx, engine, ds, query, { asOf, compression: 'zstd' });
      datasetMs[ds.name] = Date.now() - started;
      ctx.log.info(`gold ${ds.name}`, { asOf, rows: written.rows });
    }
    return asOf;
  } finally {
    engine.close();
  }
}

/** A job that writes the catalogue's SQL datasets declared with `job: name`. */
export function goldSqlJob(o: { name: string; description: string; params?: readonly JobParamSpec[]; hooks?: (ctx: JobContext) => GoldRunHooks }): Job {
  return {
    name: o.name,
    description: o.description,
    usesAsOf: true,
    params: [
      { name: 'asOf', description: 'As-of date YYYY-MM-DD (default: the run\'s, else the latest event date in the data)' },
      { name: 'fullRefresh', description: "'true': recompute every day of the datasets partitioned by day", type: { kind: 'bool' } },
      ...(o.params ?? []),
    ],
    async run(ctx) {
      await runGoldDatasets(ctx, datasetsOfJob(o.name), o.hooks?.(ctx));
    },
  };
}
