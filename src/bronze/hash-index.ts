// What a table already holds, as record hashes: the per-table index files, plus the `_record_hash` column of any
// Bronze/quarantine file the index does not cover (e.g. a crash between committing data and its index file).
import type { TableContract } from '../../schemas/contract.ts';
import type { Lake } from '../lake/lake.ts';
import { bronzeDirOf, hashIndexDirOf, outputKeyOf, quarantineDirOf } from './paths.ts';

/** Local paths of the Parquet files whose `_record_hash` column together lists every record the table holds. */
export async function existingHashFiles(lake: Lake, contract: TableContract): Promise<string[]> {
  const parquet = (p: { path: string }) => p.path.endsWith('.parquet');
  const [index, bronze, quarantine] = await Promise.all([
    lake.list(hashIndexDirOf(contract)),
    lake.list(bronzeDirOf(contract)),
    lake.list(quarantineDirOf(contract)),
  ]);
  const indexed = new Set(index.filter(parquet).map((f) => outputKeyOf(f.path)));
  const uncovered = [...bronze, ...quarantine].filter((f) => parquet(f) && !indexed.has(outputKeyOf(f.path)));
  return Promise.all([...index.filter(parquet), ...uncovered].map((f) => lake.localPath(f.path)));
}
