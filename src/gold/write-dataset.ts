// Writes one Gold dataset for an as-of date: COPY the query to a temp Parquet file, commit it atomically into
// gold/customer360/<dataset>/as_of_date=D/, then remove any other file in that folder, so a re-run replaces the
// folder's content and readers never see a half-written file. Small datasets are written in a fixed order; the large
// facts and aggregates skip the sort (their row order is not part of their content, and the load merges by key).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { lit, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { goldDir } from './paths.ts';

export const GOLD_FILE = 'part-00000.parquet';

export interface WrittenDataset {
  path: string;
  rows: number;
}

export async function writeGoldQuery(
  engine: Engine,
  lake: Lake,
  o: { dataset: string; asOf: string; query: string; tmpDir: string },
): Promise<WrittenDataset> {
  await mkdir(o.tmpDir, { recursive: true });
  const tmp = join(o.tmpDir, `${o.dataset}-${randomUUID()}.parquet`);
  try {
    const res = await engine.all<{ Count?: string | number }>(`COPY (${o.query}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    const rows = Number(res[0]?.Count ?? 0);
    const dir = goldDir(o.dataset, o.asOf);
    const path = `${dir}/${GOLD_FILE}`;
    await lake.putFile(tmp, path);
    for (const f of await lake.list(dir)) if (f.path !== path) await lake.delete(f.path);
    return { path, rows };
  } finally {
    await rm(tmp, { force: true });
  }
}
