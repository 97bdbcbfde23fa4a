// What a table already holds, as record hashes: the `_record_hash` column of its Bronze and quarantine files.
// Parquet column projection reads only that column's pages, so no separate hash index is kept (one less file per
// commit, and nothing that can fall out of step with the data after a crash).
import type { TableContract } from '../../schemas/contract.ts';
import type { Lake } from '../lake/lake.ts';
import { bronzeDirOf, quarantineDirOf } from './paths.ts';

/** Local paths of the Bronze and quarantine Parquet files of a table (read their `_record_hash` column). */
export async function heldHashFiles(lake: Lake, contract: TableContract): Promise<string[]> {
  const [bronze, quarantine] = await Promise.all([lake.list(bronzeDirOf(contract)), lake.list(quarantineDirOf(contract))]);
  return Promise.all([...bronze, ...quarantine].filter((f) => f.path.endsWith('.parquet')).map((f) => lake.localPath(f.path)));
}
