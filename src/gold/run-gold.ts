// Runs a set of Gold datasets in one job: resolve the as-of date, register the as-of-cut Silver inputs, write each
// dataset, and report inputs, outputs and row counts.
import { join } from 'node:path';
import type { Engine } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { DEFAULT_ATTRIBUTION_WINDOW_DAYS, type GoldDataset, type GoldParams } from './dataset.ts';
import { assertIsoDate } from './paths.ts';
import { latestEventDate, registerSilverInputs } from './silver-inputs.ts';
import { writeGoldQuery } from './write-dataset.ts';
import { EVENTS_DAY_SQL, TOUCH_DAYS_SQL } from './behavior.ts';

/**
 * Relations several datasets of a job read, computed once as temp tables g_<name>, in this order (a relation may read
 * the ones before it: touch_days reads events_day; a dataset using it lists both).
 */
export const SHARED_RELATIONS: Record<string, string> = { events_day: EVENTS_DAY_SQL, touch_days: TOUCH_DAYS_SQL };

export async function resolveAsOf(engine: Engine, ctx: JobContext): Promise<string> {
  if (ctx.asOf) return assertIsoDate(ctx.asOf);
  const latest = await latestEventDate(engine, ctx.lake);
  if (!latest) throw new UsageError('No Silver event data in the lake to take a default as-of date from: run the Silver stage first or pass --as-of YYYY-MM-DD');
  return latest;
}

export function goldParams(ctx: JobContext, asOf: string): GoldParams {
  const raw = ctx.params.attributionWindowDays;
  const w = raw === undefined || raw === '' ? DEFAULT_ATTRIBUTION_WINDOW_DAYS : Number(raw);
  if (!Number.isInteger(w) || w <= 0) throw new UsageError(`attributionWindowDays must be a positive whole number of days, got '${raw}'`);
  return { asOf, attributionWindowDays: w };
}

export interface GoldRunHooks {
  /** Runs after the Silver inputs are registered, before the datasets (e.g. to register intelligence outputs). */
  prepare?(engine: Engine, asOf: string): Promise<void>;
}

export async function runGoldDatasets(ctx: JobContext, datasets: readonly GoldDataset[], hooks: GoldRunHooks = {}): Promise<string> {
  const engine = await ctx.openEngine();
  try {
    const asOf = await resolveAsOf(engine, ctx);
    const params = goldParams(ctx, asOf);
    const inputs = await registerSilverInputs(engine, ctx.lake, asOf);
    ctx.report.inputs.push(...inputs.files);
    ctx.report.metrics.asOf = asOf;
    if (inputs.missing.length) {
      ctx.report.metrics.missingSilver = inputs.missing;
      ctx.log.warn('Silver datasets missing, read as empty', { missing: inputs.missing.join(', ') });
    }
    for (const [name, n] of Object.entries(inputs.rows)) ctx.report.rowCounts[`silver.${name}`] = n;
    await hooks.prepare?.(engine, asOf);
    const used = new Set(datasets.flatMap((d) => d.uses ?? []));
    for (const name of used) if (!SHARED_RELATIONS[name]) throw new Error(`Gold dataset uses unknown shared relation '${name}'`);
    for (const [name, sql] of Object.entries(SHARED_RELATIONS)) {
      if (used.has(name)) await engine.run(`CREATE OR REPLACE TEMP TABLE g_${name} AS ${sql}`);
    }
    const tmpDir = join(ctx.home, 'tmp', 'gold');
    const datasetMs: Record<string, number> = {};
    ctx.report.metrics.datasetMs = datasetMs;
    for (const ds of datasets) {
      const started = Date.now();
      let query = ds.sql(params);
      if (ds.keep) {
        await engine.run(`CREATE OR REPLACE TEMP TABLE g_${ds.name} AS ${query}`);
        query = `SELECT * FROM g_${ds.name}`;
      }
      const written = await writeGoldQuery(engine, ctx.lake, { dataset: ds.name, asOf, query, tmpDir });
      ctx.report.outputs.push(written.path);
      ctx.report.rowCounts[ds.name] = written.rows;
      datasetMs[ds.name] = Date.now() - started;
      ctx.log.info(`gold ${ds.name}`, { asOf, rows: written.rows });
    }
    return asOf;
  } finally {
    engine.close();
  }
}
