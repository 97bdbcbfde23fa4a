// What every intelligence job does first, through the catalogue runner: the run's as-of date, an engine with Silver
// loaded up to it, the horizon, and the documented exclusions in the report. Too few purchasers to fit anything is
// not a failure: the job writes its datasets empty (so the warehouse load finds every snapshot) and says why.
import { datasetsOfJob } from '../catalogue/index.ts';
import { emptySql, jobAsOf, writeDataset } from '../catalogue/runner.ts';
import { lit, type Engine } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';
import type { JobContext, JobParamSpec } from '../runtime/job.ts';
import { modelRegistry } from './datasets.ts';
import { buildSnapshot, type Snapshot } from './features.ts';
import { loadSilver } from './input.ts';
import { tableFromRecords } from './lake-io.ts';
import { REGISTRY_COLUMNS, type ModelRecord } from './registry.ts';

export interface IntelligenceInputs {
  engine: Engine;
  asOf: string;
  horizonDays: number;
  snapshot: Snapshot;
  firstDate: string;
}

export const AS_OF_PARAM: JobParamSpec = { name: 'asOf', description: "As-of date YYYY-MM-DD (default: the run's, else the latest event date in the data)", type: { kind: 'date' } };

/** Every intelligence job reads the horizon (openInputs), so each declares it. */
export const HORIZON_PARAM: JobParamSpec = { name: 'horizonDays', description: 'Prediction horizon in days (default 90)', type: { kind: 'int', min: 1, max: 3650 } };

export function horizonOf(params: Record<string, string>): number {
  const raw = params.horizonDays ?? '';
  if (raw === '') return 90;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError(`horizonDays must be a whole number of days in 1..3650, got '${raw}'`);
  return n;
}

/** Fewer purchasers than this and there is nothing to fit: the jobs write empty datasets (and say so) rather than fail the run. */
export const MIN_PURCHASERS = 3;

/** The file a job writes in a dataset written in parts (the model registry). */
function partOf(job: string, parts: Readonly<Record<string, string>> | undefined): string | undefined {
  return parts ? Object.keys(parts).find((p) => parts[p] === job) : undefined;
}

/**
 * Loads inputs for `job`; the caller closes `engine`. `rows: false`: the snapshot's rows stay in its engine table. Undefined (engine closed, the job's datasets written empty, the
 * reason in metrics.skipped) when the lake holds too few purchases on or before the as-of date to model anything.
 */
export async function openInputs(ctx: JobContext, job: string, o: { rows?: boolean } = {}): Promise<IntelligenceInputs | undefined> {
  const horizonDays = horizonOf(ctx.params);
  const asOf = await jobAsOf(ctx);
  const engine = await ctx.openEngine();
  try {
    const load = await loadSilver(engine, ctx.lake, asOf);
    ctx.report.inputs.push(...load.inputs);
    for (const [k, v] of Object.entries(load.rowCounts)) ctx.report.rowCounts[`input.${k}`] = v;
    for (const [k, v] of Object.entries(load.excluded)) ctx.report.rowCounts[`excluded.${k}`] = v;
    const purchasers = Number(await engine.scalar(`SELECT count(DISTINCT CUSTOMER360_ID) FROM base_tx WHERE TX_DATE <= DATE ${lit(asOf)}`));
    if (purchasers < MIN_PURCHASERS) {
      const reason = `${purchasers} customer(s) with completed purchases in silver/customer360/transactions on or before ${asOf}; at least ${MIN_PURCHASERS} are needed: datasets written empty`;
      ctx.log.warn(`intelligence skipped: ${reason}`);
      ctx.report.metrics.skipped = reason;
      for (const ds of datasetsOfJob(job)) await writeDataset(ctx, engine, ds, emptySql(ds), { asOf, part: partOf(job, ds.parts) });
      engine.close();
      return undefined;
    }
    const firstDate = (await engine.scalar<string>(`SELECT CAST(min(TX_DATE) AS VARCHAR) FROM base_tx`)) ?? asOf;
    const snapshot = await buildSnapshot(engine, asOf, undefined, o);
    ctx.report.metrics.horizonDays = horizonDays;
    ctx.report.metrics.featureSnapshotVersion = snapshot.version;
    ctx.log.info('intelligence inputs loaded', { asOf, version: snapshot.version });
    return { engine, asOf, horizonDays, snapshot, firstDate };
  } catch (e) {
    engine.close();
    throw e;
  }
}

/** Registers a job's model versions: its file of the as-of folder of model_registry. */
export async function writeModels(ctx: JobContext, engine: Engine, asOf: string, job: string, records: readonly ModelRecord[]): Promise<{ path: string; rows: number }> {
  const table = `registry_${job.replace(/\W/g, '_')}`;
  await tableFromRecords(engine, table, REGISTRY_COLUMNS, records as unknown as Record<string, unknown>[]);
  return writeDataset(ctx, engine, modelRegistry, `SELECT * FROM ${table} ORDER BY MODEL_NAME`, { asOf, part: partOf(job, modelRegistry.parts) });
}
