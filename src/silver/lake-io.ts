// Parquet in and out of the lake for Silver jobs: list and localise inputs, write a query's result atomically.
import { join } from 'node:path';
import type { Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery, parquetFiles, pruneOthers } from '../lake/parquet.ts';
import type { JobContext } from '../runtime/job.ts';

/** Local paths of the Parquet files under a lake prefix (sorted), and their lake paths. */
export async function parquetInputs(lake: Lake, prefix: string): Promise<{ lakePaths: string[]; localPaths: string[] }> {
  const lakePaths = await parquetFiles(lake, prefix);
  const localPaths: string[] = [];
  for (const p of lakePaths) localPaths.push(await lake.localPath(p));
  return { lakePaths, localPaths };
}

/** Writes the rows of `query` to `lakePath` as Parquet (temp file, then an atomic commit); returns the row count. */
export async function writeParquet(ctx: Pick<JobContext, 'home' | 'lake' | 'report'>, engine: Engine, query: string, lakePath: string): Promise<number> {
  const rows = await commitQuery(engine, ctx.lake, query, lakePath, { tmpDir: join(ctx.home, 'tmp', 'silver') });
  ctx.report.outputs.push(lakePath);
  return rows;
}

export { pruneOthers };
