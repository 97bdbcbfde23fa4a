// Parquet in and out of the lake for Silver jobs: list and localise inputs, write a query's result atomically.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lit, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { JobContext } from '../runtime/job.ts';

/** Local paths of the Parquet files under a lake prefix (sorted), and their lake paths. */
export async function parquetInputs(lake: Lake, prefix: string): Promise<{ lakePaths: string[]; localPaths: string[] }> {
  const lakePaths = (await lake.list(prefix)).map((f) => f.path).filter((p) => p.endsWith('.parquet'));
  const localPaths: string[] = [];
  for (const p of lakePaths) localPaths.push(await lake.localPath(p));
  return { lakePaths, localPaths };
}

/** Writes the rows of `query` to `lakePath` as Parquet (temp file, then an atomic commit); returns the row count. */
export async function writeParquet(ctx: Pick<JobContext, 'home' | 'lake' | 'report'>, engine: Engine, query: string, lakePath: string): Promise<number> {
  const dir = join(ctx.home, 'tmp', 'silver');
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.parquet`);
  try {
    await engine.run(`COPY (${query}) TO ${lit(tmp)} (FORMAT parquet)`);
    const rows = Number(await engine.scalar(`SELECT count(*) FROM read_parquet(${lit(tmp)})`));
    await ctx.lake.putFile(tmp, lakePath);
    ctx.report.outputs.push(lakePath);
    return rows;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Removes files under `prefix` other than `keep` (a dataset folder holds exactly the current version). */
export async function pruneOthers(lake: Lake, prefix: string, keep: string): Promise<void> {
  for (const f of await lake.list(prefix)) if (f.path !== keep) await lake.delete(f.path);
}
