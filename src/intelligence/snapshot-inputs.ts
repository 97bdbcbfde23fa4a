// A model job that needs only the feature snapshot (segments) reads the one the features job wrote for the run's
// as-of date (gold/customer360/feature_snapshots/as_of_date=D/), instead of loading all of Silver and building it
// again. Without that snapshot (a job run alone), or with too few purchasers to fit (openInputs then writes the
// datasets empty and says why), the caller falls back to openInputs.
import { jobAsOf } from '../catalogue/runner.ts';
import { litList, type Engine } from '../engine/duckdb.ts';
import { goldDir } from '../gold/paths.ts';
import { parquetFiles } from '../lake/parquet.ts';
import type { JobContext } from '../runtime/job.ts';
import { featureSnapshots } from './datasets.ts';
import { toFeatureRow, type Snapshot } from './features.ts';
import { MIN_PURCHASERS } from './job-support.ts';

export interface SnapshotInputs {
  engine: Engine;
  asOf: string;
  snapshot: Snapshot;
  /** First purchase date in the data (the earliest FIRST_PURCHASE_DATE of the snapshot). */
  firstDate: string;
}

/**
 * The caller closes `engine`; null when there is no usable stored snapshot (engine closed). `rows: false`: the
 * snapshot's rows stay in the engine table only (`rows` is empty), for a caller that reads them in SQL.
 */
export async function openStoredSnapshot(ctx: JobContext, o: { rows?: boolean } = {}): Promise<SnapshotInputs | null> {
  const asOf = await jobAsOf(ctx);
  const files = await parquetFiles(ctx.lake, goldDir(featureSnapshots.name, asOf));
  if (files.length === 0) return null;
  const engine = await ctx.openEngine();
  try {
    const table = `fs_${asOf.replace(/-/g, '')}`;
    await engine.run(`CREATE TABLE ${table} AS SELECT * FROM read_parquet(${litList(await Promise.all(files.map((f) => ctx.lake.localPath(f))))}) ORDER BY CUSTOMER360_ID`);
    const [m] = await engine.all<{ purchasers: unknown; first: string | null; version: string | null }>(
      `SELECT count(*) FILTER (WHERE HAS_PURCHASED) AS purchasers, CAST(min(FIRST_PURCHASE_DATE) AS VARCHAR) AS first, min(FEATURE_SNAPSHOT_VERSION) AS version FROM ${table}`,
    );
    if (Number(m!.purchasers) < MIN_PURCHASERS || !m!.first || !m!.version) {
      engine.close();
      return null;
    }
    ctx.report.inputs.push(...files);
    ctx.report.metrics.featureSnapshotVersion = m!.version;
    const rows = o.rows === false ? [] : (await engine.all<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY CUSTOMER360_ID`)).map(toFeatureRow);
    return { engine, asOf, snapshot: { asOf, version: m!.version, table, rows }, firstDate: m!.first };
  } catch (e) {
    engine.close();
    throw e;
  }
}
