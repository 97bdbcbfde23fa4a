// Writes one Gold dataset for an as-of date: COPY the query to a temp Parquet file, commit it atomically into
// gold/customer360/<dataset>/as_of_date=D/, then remove any other file in that folder, so a re-run replaces the
// folder's content and readers never see a half-written file. Small datasets are written in a fixed order; the large
// facts and aggregates skip the sort (their row order is not part of their content, and the load merges by key).
import type { Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery, pruneOthers } from '../lake/parquet.ts';
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
  const dir = goldDir(o.dataset, o.asOf);
  const path = `${dir}/${GOLD_FILE}`;
  const rows = await commitQuery(engine, lake, o.query, path, { tmpDir: o.tmpDir, compression: 'zstd' });
  await pruneOthers(lake, dir, path);
  return { path, rows };
}
