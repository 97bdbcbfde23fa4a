// What every intelligence job does first: open an engine, load Silver up to the as-of date, resolve the as-of date
// and horizon, and report inputs and documented exclusions.
import { lit, type Engine } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { buildSnapshot, type Snapshot } from './features.ts';
import { latestDate, loadSilver } from './input.ts';

export interface IntelligenceInputs {
  engine: Engine;
  asOf: string;
  horizonDays: number;
  snapshot: Snapshot;
  firstDate: string;
}

export function horizonOf(params: Record<string, string>): number {
  const raw = params.horizonDays ?? '';
  if (raw === '') return 90;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError(`horizonDays must be a whole number of days in 1..3650, got '${raw}'`);
  return n;
}

export function asOfParam(ctx: JobContext): string | undefined {
  const v = ctx.asOf || ctx.params.asOf || undefined;
  if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new UsageError(`asOf must be a date YYYY-MM-DD, got '${v}'`);
  return v;
}

/** Fewer purchasers than this and there is nothing to fit: the jobs skip (and say so) rather than fail the run. */
export const MIN_PURCHASERS = 3;

/**
 * Loads inputs for a job; the caller closes `engine`. Undefined (engine already closed, reason logged and reported as
 * metrics.skipped) when the lake holds too few purchases on or before the as-of date to model anything.
 */
export async function openInputs(ctx: JobContext): Promise<IntelligenceInputs | undefined> {
  const horizonDays = horizonOf(ctx.params);
  const requested = asOfParam(ctx);
  const engine = await ctx.openEngine();
  try {
    const load = await loadSilver(engine, ctx.lake, requested);
    ctx.report.inputs.push(...load.inputs);
    for (const [k, v] of Object.entries(load.rowCounts)) ctx.report.rowCounts[`input.${k}`] = v;
    for (const [k, v] of Object.entries(load.excluded)) ctx.report.rowCounts[`excluded.${k}`] = v;
    const asOf = requested ?? (await latestDate(engine));
    const purchasers = asOf ? Number(await engine.scalar(`SELECT count(DISTINCT CUSTOMER360_ID) FROM base_tx WHERE TX_DATE <= DATE ${lit(asOf)}`)) : 0;
    if (!asOf || purchasers < MIN_PURCHASERS) {
      const reason = `${purchasers} customer(s) with completed purchases in silver/customer360/transactions on or before ${asOf ?? 'the as-of date'}; at least ${MIN_PURCHASERS} are needed: nothing written`;
      ctx.log.warn(`intelligence skipped: ${reason}`);
      ctx.report.metrics.skipped = reason;
      engine.close();
      return undefined;
    }
    const firstDate = (await engine.scalar<string>(`SELECT CAST(min(TX_DATE) AS VARCHAR) FROM base_tx`)) ?? asOf;
    const snapshot = await buildSnapshot(engine, asOf);
    ctx.report.metrics.asOf = asOf;
    ctx.report.metrics.horizonDays = horizonDays;
    ctx.report.metrics.featureSnapshotVersion = snapshot.version;
    ctx.log.info('intelligence inputs loaded', { asOf, customers: snapshot.rows.length, version: snapshot.version });
    return { engine, asOf, horizonDays, snapshot, firstDate };
  } catch (e) {
    engine.close();
    throw e;
  }
}
