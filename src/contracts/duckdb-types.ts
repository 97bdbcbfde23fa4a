// DuckDB (and so Parquet) types derived from the contracts. Bronze stores every contract column under its
// contract name with exactly this type.
import type { ColumnDef, ColumnType, TableContract } from '../../schemas/contract.ts';
import { ident } from '../engine/duckdb.ts';

export function duckdbType(type: ColumnType): string {
  switch (type.kind) {
    case 'varchar':
    case 'text':
      return 'VARCHAR';
    case 'integer':
      return 'INTEGER';
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'boolean':
      return 'BOOLEAN';
  }
}

/** The type as the seed writes it, for docs: VARCHAR(20), DECIMAL(10,2), TEXT, ... */
export function seedType(type: ColumnType): string {
  switch (type.kind) {
    case 'varchar':
      return `VARCHAR(${type.length})`;
    case 'text':
      return 'TEXT';
    default:
      return duckdbType(type);
  }
}

/** Metadata columns of a Bronze row, with their DuckDB types, in file order. */
export const BRONZE_METADATA_TYPES: readonly { name: string; type: string }[] = [
  { name: '_load_id', type: 'VARCHAR' },
  { name: '_ingested_at', type: 'TIMESTAMP' },
  { name: '_source_system', type: 'VARCHAR' },
  { name: '_source_file', type: 'VARCHAR' },
  { name: '_record_hash', type: 'VARCHAR' },
  { name: '_schema_version', type: 'INTEGER' },
];

/** Extra quarantine columns, between the received fields and the metadata. */
export const QUARANTINE_COLUMN_TYPES: readonly { name: string; type: string }[] = [
  { name: '_reasons', type: 'VARCHAR[]' },
  { name: '_source_position', type: 'VARCHAR' },
];

/** CREATE TABLE for the Bronze shape of a contract (without extra columns a drop may carry). */
export function bronzeTableDdl(contract: TableContract, tableName = contract.name): string {
  const cols = [
    ...contract.columns.map((c: ColumnDef) => `${ident(c.name)} ${duckdbType(c.type)}`),
    ...BRONZE_METADATA_TYPES.map((m) => `${ident(m.name)} ${m.type}`),
  ];
  return `CREATE TABLE ${ident(tableName)} (\n  ${cols.join(',\n  ')}\n)`;
}
