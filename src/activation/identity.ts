// What identity resolution changed, as activation publishes it: the merged and split events of identity_changes
// (appended by the silver-identity job, one event per change with an increasing SEQ) for the profile change feed, and
// the survivor of every id a merge retired, for audience exits.
import type { Engine } from '../engine/duckdb.ts';
import { lit, litList } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { parquetFiles } from '../lake/parquet.ts';
import { IDENTITY_DATASETS, IDENTITY_DATASET_DECLS } from '../silver/datasets.ts';

export const identityChanges = IDENTITY_DATASET_DECLS.find((d) => d.name === IDENTITY_DATASETS.changes)!;

/**
 * The identity changes of the feed: merged and split events of identity_changes with SEQ in (after, upTo], and the ids
 * every merge up to `upTo` retired. A profile that disappears because a merge retired its id is announced by the
 * merge (re-key it to the survivor), not as deleted: a consumer that deleted it first would lose what it holds.
 */
export async function identityChangeRows(engine: Engine, lake: Lake, o: { after?: number; batch: number; runId: string; asOf: string }): Promise<{ upTo: number; rowsSql: string; retiredSql: string } | undefined> {
  const files = await Promise.all((await parquetFiles(lake, identityChanges.path)).map((f) => lake.localPath(f)));
  if (files.length === 0) return undefined;
  const src = `read_parquet(${litList(files)}, union_by_name = true)`;
  const max = Number(await engine.scalar(`SELECT coalesce(max(SEQ), 0) FROM ${src}`));
  // No `after` (the first batch): start from the latest change.
  const after = o.after ?? max;
  const upTo = Math.max(after, max);
  const rowsSql = `SELECT 'pi-' || EVENT_ID AS CHANGE_ID, CAST(${o.batch} AS BIGINT) AS BATCH, ${lit(o.runId)} AS RUN_ID, DATE ${lit(o.asOf)} AS AS_OF_DATE,
  IDS_AFTER[1] AS CUSTOMER360_ID, CHANGE_TYPE, '' AS CHANGED_ATTRIBUTES, '[]' AS CHANGES, CAST(NULL AS VARCHAR) AS PROFILE_CHECKSUM,
  array_to_string(IDS_BEFORE, ',') AS IDS_BEFORE, array_to_string(IDS_AFTER, ',') AS IDS_AFTER
FROM ${src} WHERE SEQ > ${after} AND SEQ <= ${upTo} AND CHANGE_TYPE IN ('merged', 'split')`;
  const retiredSql = `SELECT DISTINCT unnest(list_filter(IDS_BEFORE, x -> NOT list_contains(IDS_AFTER, x))) AS CUSTOMER360_ID FROM ${src} WHERE SEQ <= ${upTo} AND CHANGE_TYPE = 'merged'`;
  return { upTo, rowsSql, retiredSql };
}


/**
 * SQL of (RETIRED_ID, SURVIVOR_ID) for every id a merge retired, merge pointers followed to the last survivor
 * (A merged into B, then B into C: A and B both point at C); undefined when there is no identity_changes.
 */
export async function survivorsSql(lake: Lake): Promise<string | undefined> {
  const files = await Promise.all((await parquetFiles(lake, identityChanges.path)).map((f) => lake.localPath(f)));
  if (files.length === 0) return undefined;
  const pairs = `SELECT unnest(list_filter(IDS_BEFORE, x -> NOT list_contains(IDS_AFTER, x))) AS r, IDS_AFTER[1] AS s, SEQ
    FROM read_parquet(${litList(files)}, union_by_name = true) WHERE CHANGE_TYPE = 'merged'`;
  // The latest merge of an id wins; chains are followed a bounded number of steps (a cycle cannot grow it).
  return `WITH RECURSIVE p AS (SELECT r, arg_max(s, SEQ) AS s FROM (${pairs}) GROUP BY r),
  chain(r, s, depth) AS (SELECT r, s, 0 FROM p UNION ALL SELECT c.r, p.s, c.depth + 1 FROM chain c JOIN p ON p.r = c.s WHERE c.depth < 64)
SELECT r AS RETIRED_ID, arg_max(s, depth) AS SURVIVOR_ID FROM chain GROUP BY r`;
}
