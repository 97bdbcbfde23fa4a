// Registers a table's Bronze files as view `bronze_src`; with no files, an empty table with the contract's
// columns and the metadata columns, so a Silver run on a partial lake still writes (empty) datasets.
import type { TableContract } from '../../schemas/contract.ts';
import { ident, litList, type Engine } from '../engine/duckdb.ts';
import { duckType } from './standardise-table.ts';

export async function registerBronze(engine: Engine, contract: TableContract, localPaths: readonly string[], view = 'bronze_src'): Promise<Set<string>> {
  if (localPaths.length) {
    await engine.run(`CREATE OR REPLACE VIEW ${view} AS SELECT * FROM read_parquet(${litList(localPaths)}, union_by_name = true)`);
  } else {
    const cols = contract.columns.map((c) => `CAST(NULL AS ${duckType(c)}) AS ${ident(c.name)}`);
    await engine.run(`CREATE OR REPLACE TABLE ${view} AS SELECT ${cols.join(', ')}, NULL::VARCHAR AS _load_id, NULL::TIMESTAMP AS _ingested_at,
      NULL::VARCHAR AS _source_system, NULL::VARCHAR AS _source_file, NULL::VARCHAR AS _record_hash, NULL::INTEGER AS _schema_version WHERE false`);
  }
  const rows = await engine.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${view})`);
  return new Set(rows.map((r) => r.column_name));
}
