// Parquet through the lake seam, shared by the Silver, Gold, intelligence and warehouse jobs: list a dataset's files,
// commit a query's result atomically (temp file, then one putFile), and keep a folder to exactly its current file.
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lit, unordered, type Engine } from '../engine/duckdb.ts';
import { owned } from '../runtime/tmp.ts';
import type { Lake } from './lake.ts';

/** Lake paths of the Parquet files under a prefix, sorted. */
export async function parquetFiles(lake: Lake, prefix: string): Promise<string[]> {
  return (await lake.list(prefix)).map((f) => f.path).filter((p) => p.endsWith('.parquet'));
}

/**
 * Writes the rows of `query` to `lakePath` as Parquet: COPY to a temp file under `tmpDir`, then an atomic commit, so
 * readers never see a half-written file. Returns the row count.
 */
export async function commitQuery(
  engine: Engine,
  lake: Lake,
  query: string,
  lakePath: string,
  o: { tmpDir: string; compression?: 'zstd' | 'snappy'; unordered?: boolean },
): Promise<number> {
  await mkdir(o.tmpDir, { recursive: true });
  const tmp = join(o.tmpDir, owned(`${randomUUID()}.parquet`));
  try {
    const options = o.compression ? `FORMAT parquet, COMPRESSION ${o.compression}` : 'FORMAT parquet';
    const copy = `COPY (${query}) TO ${lit(tmp)} (${options})`;
    let res: { Count?: string | number }[];
    if (o.unordered) {
      // The rows' order does not matter, so DuckDB may write them as its threads produce them; the count comes from
      // the file's footer.
      await unordered(engine, copy);
      res = await engine.all<{ Count: string }>(`SELECT CAST(count(*) AS VARCHAR) AS Count FROM read_parquet(${lit(tmp)})`);
    } else {
      res = await engine.all<{ Count?: string | number }>(copy);
    }
    await lake.putFile(tmp, lakePath);
    return Number(res[0]?.Count ?? 0);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Removes the files under `prefix` other than `keep` (a dataset folder holds exactly its current version). */
export async function pruneOthers(lake: Lake, prefix: string, keep: string): Promise<void> {
  for (const f of await lake.list(prefix)) if (f.path !== keep) await lake.delete(f.path);
}
