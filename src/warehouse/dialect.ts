// A SQL dialect: the pure part of the warehouse seam (quoting, casing, types, DDL shape, the staging COPY step).
// Statements common to both engines (MERGE, DELETE, audit) are rendered once in load-plan.ts through these hooks.
import type { LogicalType, WarehouseColumn } from './types.ts';

export interface TableDdl {
  schema: string;
  name: string;
  comment: string;
  columns: readonly WarehouseColumn[];
  primaryKey: readonly string[];
  clusterBy: readonly string[];
  /** Staging tables: transient in Snowflake, no keys or clustering. */
  staging?: boolean;
}

export interface ViewDdl {
  schema: string;
  name: string;
  comment: string;
  columns: readonly WarehouseColumn[];
  /** The SELECT, rendered in this dialect, producing exactly `columns` in order. */
  select: string;
}

/** Where the staging COPY reads a Gold dataset from: local Parquet files (DuckDB) or a stage path (Snowflake). */
export interface CopySource {
  files?: readonly string[];
  stagePath?: string;
  /** A stage path holding every day of a day-partitioned dataset: only rows whose column's date is on or before `date`. */
  until?: { column: string; date: string };
  /**
   * A stage path of a day-partitioned dataset: read only these days' partition folders (event_date=D/). DuckDB is
   * given those days' files instead.
   */
  days?: readonly string[];
  /** A stage path of a batch log: read only these files (names in the folder). DuckDB is given those files instead. */
  names?: readonly string[];
  /** Columns the source lacks, loaded as NULL (DuckDB checks; Snowflake reads missing Parquet fields as NULL). */
  missingColumns?: readonly string[];
}

export interface Dialect {
  readonly name: 'duckdb' | 'snowflake';
  ident(name: string): string;
  qualified(schema: string, name: string): string;
  type(t: LogicalType): string;
  string(value: string): string;
  date(iso: string): string;
  /** A DATE expression as YYYY-MM-DD text (whatever the session's output format). */
  dateText(expr: string): string;
  createSchema(schema: string, comment: string): string[];
  createTable(t: TableDdl): string[];
  /** Creates or replaces a view, with its comment and column comments. */
  createView(v: ViewDdl): string[];
  /** SELECT of a Gold snapshot's data columns, typed as the model says (read in place: Parquet files or the stage). */
  readSnapshot(o: { columns: readonly WarehouseColumn[]; source: CopySource }): string;
  /** Loads one Gold snapshot into a table (DuckDB's first load: the target itself), stamping load id and as-of date. */
  copyIntoStaging(o: { staging: string; columns: readonly WarehouseColumn[]; loadId: string; asOf: string; source: CopySource; orderBy?: readonly string[] }): string;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
