// Lake layout of Bronze and quarantine (see docs/bronze.md).
import type { TableContract } from '../../schemas/contract.ts';
import { joinLake } from '../lake/lake.ts';

export const bronzeDirOf = (c: TableContract): string => joinLake('bronze/customer360', c.bronzeDir);
export const quarantineDirOf = (c: TableContract): string => joinLake('quarantine/customer360', c.bronzeDir);

export const bronzeFile = (c: TableContract, ingestDate: string, name: string): string =>
  joinLake(bronzeDirOf(c), `ingest_date=${ingestDate}`, `${name}.parquet`);
export const quarantineFile = (c: TableContract, ingestDate: string, name: string): string =>
  joinLake(quarantineDirOf(c), `ingest_date=${ingestDate}`, `${name}.parquet`);

/** A string made safe for a file name. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^\.+/, '_').slice(0, 80);
}
