// The as-of date has one owner. A pipeline run resolves it once (after Bronze ingestion, before the first job that
// uses it), records it in the run manifest and passes the same value to every job; `c360 job` resolves it the same
// way for its one job. The rule: --as-of, else the job's asOf parameter, else the latest event date in the lake's
// data (Bronze and Silver, every table with an event time except campaigns, which are planned ahead).
import { CONTRACTS } from '../../schemas/index.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, litList } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { UsageError } from './errors.ts';
import { datasetDataFiles, readDatasetState } from '../catalogue/partitioned.ts';
import { bronzeDataFiles, readBronzeState } from '../bronze/table-state.ts';

export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

function checked(value: string, where: string): string {
  if (!isIsoDate(value)) throw new UsageError(`${where} must be a date YYYY-MM-DD, got '${value}'`);
  return value;
}

/** Tables whose event time moves the default as-of date (campaign START_DATEs may lie in the future). */
const DATED = CONTRACTS.filter((c) => c.eventTime && c.name !== 'MARKETING_CAMPAIGNS');

/**
 * The earliest and latest event dates in the lake's Bronze and Silver data, from the Parquet footers' column statistics
 * (no data page is read); files without statistics for the column are scanned. Undefined when the lake holds no dated rows.
 */
export async function dataDateRange(engine: Engine, lake: Lake): Promise<{ first: string; last: string } | undefined> {
  const parts: string[] = [];
  for (const c of DATED) {
    // Ranges recorded in state need no file opened (on ADLS: downloaded): Bronze files' ranges in the table's state,
    // partitioned Silver's from its partition names. Only the other files' footers are read.
    const bstate = await readBronzeState(lake, c);
    const silverPath = `silver/customer360/${c.bronzeDir}`;
    const sstate = await readDatasetState(lake, silverPath);
    const silverDates = Object.keys(sstate?.partitions ?? {}).filter((p) => isIsoDate(p));
    const partitioned = silverDates.length > 0 || (sstate && Object.keys(sstate.partitions).every((p) => p !== ''));
    for (const [lo, hi] of Object.values(bstate.dates ?? {})) parts.push(`SELECT DATE '${lo}' AS lo, DATE '${hi}' AS hi`);
    if (silverDates.length) parts.push(`SELECT DATE '${silverDates.sort()[0]}' AS lo, DATE '${silverDates.at(-1)}' AS hi`);
    const files = [
      ...(await bronzeDataFiles(lake, c, bstate)).filter((f) => !bstate.dates?.[f]),
      ...(partitioned ? [] : await datasetDataFiles(lake, silverPath, sstate)),
    ];
    if (files.length === 0) continue;
    const local = await Promise.all(files.map((f) => lake.localPath(f)));
    const col = c.eventTime!;
    const stats = await engine.all<{ file_name: string; lo: string | null; hi: string | null; missing: boolean }>(
      `SELECT file_name, CAST(min(TRY_CAST(stats_min_value AS TIMESTAMP)) AS DATE)::VARCHAR AS lo,
         CAST(max(TRY_CAST(stats_max_value AS TIMESTAMP)) AS DATE)::VARCHAR AS hi,
         bool_or((stats_max_value IS NULL OR stats_min_value IS NULL) AND num_values > 0) AS missing
       FROM parquet_metadata(${litList(local)}) WHERE path_in_schema = $1 GROUP BY file_name`,
      [col],
    );
    for (const s of stats) if (s.lo && s.hi && !s.missing) parts.push(`SELECT DATE '${s.lo}' AS lo, DATE '${s.hi}' AS hi`);
    const unknown = [...stats.filter((s) => s.missing || !s.lo || !s.hi).map((s) => s.file_name), ...local.filter((f) => !stats.some((s) => s.file_name === f))];
    if (unknown.length) {
      parts.push(`SELECT min(CAST(${ident(col)} AS DATE)) AS lo, max(CAST(${ident(col)} AS DATE)) AS hi FROM read_parquet(${litList(unknown)}, union_by_name = true, hive_partitioning = false)`);
    }
  }
  if (parts.length === 0) return undefined;
  const row = (await engine.all<{ lo: string | null; hi: string | null }>(`SELECT CAST(min(lo) AS VARCHAR) AS lo, CAST(max(hi) AS VARCHAR) AS hi FROM (${parts.join(' UNION ALL ')})`))[0];
  return row?.lo && row.hi ? { first: row.lo, last: row.hi } : undefined;
}

/** The latest event date in the lake's Bronze and Silver data (see dataDateRange). */
export async function latestDataDate(engine: Engine, lake: Lake): Promise<string | undefined> {
  return (await dataDateRange(engine, lake))?.last;
}

/**
 * A given as-of date must lie in the data: not before its earliest event date (every table would be empty) and not
 * after the later of today and its latest event date (every customer would look lapsed). `force` skips the check; a lake
 * with no dated rows has nothing to check against.
 */
export function checkAsOfInRange(asOf: string, range: { first: string; last: string } | undefined, where: string): void {
  const today = new Date().toISOString().slice(0, 10);
  if (!range) return; // nothing dated yet: the jobs write their datasets empty and say so
  const latest = range.last > today ? range.last : today;
  if (asOf < range.first || asOf > latest) {
    throw new UsageError(
      `${where} ${asOf} is outside the data: event dates run from ${range.first} to ${range.last}` +
        ` (an as-of before ${range.first} empties every table; one after ${latest} marks every customer as lapsed).` +
        ' Pick a date in that range, omit it to use the latest event date, or pass --force to run anyway',
    );
  }
}

export interface AsOfResolution {
  asOf: string;
  source: 'option' | 'param' | 'data';
}

/**
 * Resolves the as-of date: the --as-of option, else the asOf job parameter, else the latest event date in the data.
 * Both given and different is an error (one run, one date).
 */
export async function resolveAsOf(o: {
  option?: string;
  param?: string;
  lake: Lake;
  openEngine: () => Promise<Engine>;
  /** Accept a given date outside the data's range (checkAsOfInRange). */
  force?: boolean;
}): Promise<AsOfResolution> {
  const option = o.option ? checked(o.option, '--as-of') : undefined;
  const param = o.param ? checked(o.param, 'asOf') : undefined;
  if (option && param && option !== param) {
    throw new UsageError(`--as-of ${option} and --param asOf=${param} disagree: a run has one as-of date; pass one of them`);
  }
  const engine = await o.openEngine();
  try {
    if (option || param) {
      if (!o.force) checkAsOfInRange((option ?? param)!, await dataDateRange(engine, o.lake), option ? '--as-of' : 'asOf');
      return option ? { asOf: option, source: 'option' } : { asOf: param!, source: 'param' };
    }
    const latest = await latestDataDate(engine, o.lake);
    if (!latest) throw new UsageError('No dated rows in the lake (Bronze or Silver) to take a default as-of date from: ingest data first or pass --as-of YYYY-MM-DD');
    return { asOf: latest, source: 'data' };
  } finally {
    engine.close();
  }
}
