// Bronze Parquet into Silver jobs: list and localise a table's input files (the catalogue runner writes the outputs).
import type { Lake } from '../lake/lake.ts';
import { parquetFiles } from '../lake/parquet.ts';

/** Local paths of the Parquet files under a lake prefix (sorted), and their lake paths. */
export async function parquetInputs(lake: Lake, prefix: string): Promise<{ lakePaths: string[]; localPaths: string[] }> {
  const lakePaths = await parquetFiles(lake, prefix);
  const localPaths: string[] = [];
  for (const p of lakePaths) localPaths.push(await lake.localPath(p));
  return { lakePaths, localPaths };
}
