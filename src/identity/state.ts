// Reading and writing the id registry and retired-id pointers as Parquet (through DuckDB).
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';
import { appendRows } from './append.ts';
import type { RegistryRow, RetiredRow } from './ids.ts';

export async function readRegistry(engine: Engine, files: readonly string[]): Promise<RegistryRow[]> {
  if (files.length === 0) return [];
  return engine.all<RegistryRow>(
    `SELECT TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID FROM read_parquet([${files.map(lit).join(', ')}])`,
  );
}

export async function readRetired(engine: Engine, files: readonly string[]): Promise<RetiredRow[]> {
  if (files.length === 0) return [];
  return engine.all<RetiredRow>(`SELECT TENANT_ID, RETIRED_ID, SURVIVOR_ID, RUN_ID, REASON FROM read_parquet([${files.map(lit).join(', ')}])`);
}

export async function writeRegistry(engine: Engine, rows: readonly RegistryRow[], file: string): Promise<void> {
  await engine.run('CREATE OR REPLACE TABLE id_registry_out (TENANT_ID VARCHAR, SOURCE_SYSTEM VARCHAR, CUSTOMER_ID VARCHAR, CUSTOMER360_ID VARCHAR)');
  await appendRows(engine, 'id_registry_out', rows.map((r) => [r.TENANT_ID, r.SOURCE_SYSTEM, r.CUSTOMER_ID, r.CUSTOMER360_ID]));
  await engine.run(`COPY (SELECT * FROM id_registry_out ORDER BY ALL) TO ${lit(file)} (FORMAT parquet)`);
}

export async function writeRetired(engine: Engine, rows: readonly RetiredRow[], file: string): Promise<void> {
  await engine.run('CREATE OR REPLACE TABLE id_retired_out (TENANT_ID VARCHAR, RETIRED_ID VARCHAR, SURVIVOR_ID VARCHAR, RUN_ID VARCHAR, REASON VARCHAR)');
  await appendRows(engine, 'id_retired_out', rows.map((r) => [r.TENANT_ID, r.RETIRED_ID, r.SURVIVOR_ID, r.RUN_ID, r.REASON]));
  await engine.run(`COPY (SELECT * FROM id_retired_out ORDER BY ALL) TO ${lit(file)} (FORMAT parquet)`);
}
