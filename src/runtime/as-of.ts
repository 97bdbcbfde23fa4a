// The as-of date has one owner. A pipeline run resolves it once (after Bronze ingestion, before the first job that
// uses it), records it in the run manifest and passes the same value to every job; `c360 job` resolves it the same
// way for its one job. The rule: --as-of, else the job's asOf parameter, else the latest event date in the lake's
// data (Bronze and Silver, every table with an event time except campaigns, which are planned ahead).
import { CONTRACTS } from '../../schemas/index.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, litList } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { UsageError } from './errors.ts';
import { datasetDataFiles } from '../catalogue/partitioned.ts';

export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

function checked(value: string, where: string): string {
  if (!isIsoDate(value)) throw new UsageError(`${where} must be a date YYYY-MM-DD, got '${value}'`);
  return value;
}

/** Tables whose event time moves the default as-of date (campaign START_DATEs may lie in the future). */
const DATED = CONTRACTS.filter((c) => c.eventTime && c.name !== 'MARKETING_CAMPAIGNS');

/** Parquet files of a table's own folder (not nested datasets). */
async function tableFiles(lake: Lake, prefix: string, nested: boolean): Promise<string[]> {
  const files = (await lake.list(prefix)).map((f) => f.path).filter((p) => p.endsWith('.parquet'));
  return nested ? files : files.filter((p) => !p.slice(prefix.length + 1).includes('/'));
}

/**
 * The latest event date in the lake's Bronze and Silver data, from the Parquet footers' column statistics (no data
 * page is read); files without statistics for the column are scanned. Undefined when the lake holds no dated rows.
 */
export async function latestDataDate(engine: Engine, lake: Lake): Promise<string | undefined> {
  const parts: string[] = [];
  for (const c of DATED) {
    const files = [
      ...(await tableFiles(lake, `bronze/customer360/${c.bronzeDir}`, true)),
      ...(await datasetDataFiles(lake, `silver/customer360/${c.bronzeDir}`)),
    ];
    if (files.length === 0) continue;
    const local = await Promise.all(files.map((f) => lake.localPath(f)));
    const col = c.eventTime!;
    const stats = await engine.all<{ file_name: string; d: string | null; missing: boolean }>(
      `SELECT file_name, CAST(max(TRY_CAST(stats_max_value AS TIMESTAMP)) AS DATE)::VARCHAR AS d,
         bool_or(stats_max_value IS NULL AND num_values > 0) AS missing
       FROM parquet_metadata(${litList(local)}) WHERE path_in_schema = $1 GROUP BY file_name`,
      [col],
    );
    for (const s of stats) if (s.d) parts.push(`SELECT DATE '${s.d}' AS d`);
    const unknown = [...stats.filter((s) => s.missing).map((s) => s.file_name), ...local.filter((f) => !stats.some((s) => s.file_name === f))];
    if (unknown.length) parts.push(`SELECT max(CAST(${ident(col)} AS DATE)) AS d FROM read_parquet(${litList(unknown)}, union_by_name = true, hive_partitioning = false)`);
  }
  if (parts.length === 0) return undefined;
  return (await engine.scalar<string | null>(`SELECT CAST(max(d) AS VARCHAR) FROM (${parts.join(' UNION ALL ')})`)) ?? undefined;
}

export interface AsOfResolution {
  asOf: string;
  source: 'option' | 'param' | 'data';
}

/**
 * Resolves the as-of date: the --as-of option, else the asOf job parameter, else the latest event date in the data.
 * Both given and different is an error (one run, one date).
 */
export async function resolveAsOf(o: { option?: string; param?: string; lake: Lake; openEngine: () => Promise<Engine> }): Promise<AsOfResolution> {
  const option = o.option ? checked(o.option, '--as-of') : undefined;
  const param = o.param ? checked(o.param, 'asOf') : undefined;
  if (option && param && option !== param) {
    throw new UsageError(`--as-of ${option} and --param asOf=${param} disagree: a run has one as-of date; pass one of them`);
  }
  if (option) return { asOf: option, source: 'option' };
  if (param) return { asOf: param, source: 'param' };
  const engine = await o.openEngine();
  try {
    const latest = await latestDataDate(engine, o.lake);
    if (!latest) throw new UsageError('No dated rows in the lake (Bronze or Silver) to take a default as-of date from: ingest data first or pass --as-of YYYY-MM-DD');
    return { asOf: latest, source: 'data' };
  } finally {
    engine.close();
  }
}
