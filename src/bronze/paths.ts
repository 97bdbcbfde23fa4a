// Lake layout of Bronze, quarantine and the per-table record-hash index (see docs/bronze.md).
import type { TableContract } from '../../schemas/contract.ts';
import { joinLake } from '../lake/lake.ts';

export const bronzeDirOf = (c: TableContract): string => joinLake('bronze/customer360', c.bronzeDir);
export const quarantineDirOf = (c: TableContract): string => joinLake('quarantine/customer360', c.bronzeDir);
/** One small Parquet file of `_record_hash` per committed output name: what dedupe reads instead of the data. */
export const hashIndexDirOf = (c: TableContract): string => joinLake('_index/bronze', c.bronzeDir);

export const bronzeFile = (c: TableContract, ingestDate: string, name: string): string =>
  joinLake(bronzeDirOf(c), `ingest_date=${ingestDate}`, `${name}.parquet`);
export const quarantineFile = (c: TableContract, ingestDate: string, name: string): string =>
  joinLake(quarantineDirOf(c), `ingest_date=${ingestDate}`, `${name}.parquet`);
export const hashIndexFile = (c: TableContract, ingestDate: string, name: string): string =>
  joinLake(hashIndexDirOf(c), `ingest_date=${ingestDate}`, `${name}.parquet`);

/** `ingest_date=D/<name>` of a data or index file: the key that links data files to their index file. */
export function outputKeyOf(path: string): string {
  const parts = path.replace(/\.parquet$/, '').split('/');
  return parts.slice(-2).join('/');
}

/** A string made safe for a file name. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^\.+/, '_').slice(0, 80);
}
