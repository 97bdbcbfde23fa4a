// The warehouse's logical model: tables described once (columns, types, comments, PII class, keys, clustering,
// how a load reconciles them), rendered per dialect by src/warehouse/dialects/*.
import type { PiiClass } from '../../schemas/contract.ts';

export type LogicalType =
  | { kind: 'varchar' }
  | { kind: 'integer' }
  | { kind: 'bigint' }
  | { kind: 'double' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'boolean' };

export interface WarehouseColumn {
  name: string;
  type: LogicalType;
  comment: string;
  pii?: PiiClass;
}

export const SCHEMAS = ['CUSTOMER_360', 'CUSTOMER_BEHAVIOR', 'RECOMMENDATIONS'] as const;
export type SchemaName = (typeof SCHEMAS)[number];

/**
 * How a load reconciles a table with the Gold snapshot it reads:
 *   snapshot   the table mirrors the latest snapshot: MERGE by key, then delete keys the snapshot no longer has
 *   partition  history by AS_OF_DATE: MERGE by key, delete only within the loaded AS_OF_DATE
 *   append     insert keys not yet present; existing rows are never changed or deleted (the model registry: a model
 *              version is immutable, so re-training the same version keeps its first registration)
 */
export type LoadStrategy = 'snapshot' | 'partition' | 'append';

export interface WarehouseTable {
  schema: SchemaName;
  name: string;
  comment: string;
  /** Gold dataset folder (gold/customer360/<source>/as_of_date=D/). */
  source: string;
  columns: readonly WarehouseColumn[];
  primaryKey: readonly string[];
  clusterBy: readonly string[];
  strategy: LoadStrategy;
  /** Time-partitioned fact (e.g. DATE_KEY): a load replaces only the partitions whose rows changed. */
  partitionBy?: string;
  /**
   * The source is maintained by day (its rows' day is this column's date): a load reads only the days changed since
   * the last load (the dataset's change log from the sequence number OPS.LOAD_STATE remembers) and reconciles the
   * target's rows of those days only.
   */
  dayColumn?: string;
}

/** A view over a target table with columns of other tables LEFT JOINed in (the catalogue's WarehouseViewMapping, resolved). */
export interface WarehouseView {
  schema: SchemaName;
  name: string;
  comment: string;
  from: WarehouseTable;
  joins: readonly { table: WarehouseTable; on: readonly string[]; columns: readonly string[] }[];
  /** The view's columns in order: the base table's, then each join's. */
  columns: readonly WarehouseColumn[];
}

/** Columns every target table carries: the load that last changed the row and its as-of date. */
export const LOAD_COLUMNS: readonly WarehouseColumn[] = [
  { name: '_LOAD_ID', type: { kind: 'varchar' }, comment: 'Load id of the load that last inserted or changed this row' },
  { name: '_AS_OF_DATE', type: { kind: 'date' }, comment: 'As-of date of the Gold snapshot that last inserted or changed this row' },
];

/** Staging only: what a staged row says: UPSERT (a new or changed row), DELETE (a key gone), PARTITION (a partition to replace). */
export const CHANGE_COLUMN: WarehouseColumn = { name: '_CHANGE', type: { kind: 'varchar' }, comment: 'UPSERT, DELETE (key gone from the snapshot) or PARTITION (partition value to replace)' };

export const STAGING_SCHEMA = 'STAGING';
export const OPS_SCHEMA = 'OPS';

export function stagingName(t: WarehouseTable): string {
  return `${t.schema}__${t.name}`;
}

export const T = {
  varchar: { kind: 'varchar' } as LogicalType,
  integer: { kind: 'integer' } as LogicalType,
  bigint: { kind: 'bigint' } as LogicalType,
  double: { kind: 'double' } as LogicalType,
  money: { kind: 'decimal', precision: 18, scale: 2 } as LogicalType,
  date: { kind: 'date' } as LogicalType,
  timestamp: { kind: 'timestamp' } as LogicalType,
  boolean: { kind: 'boolean' } as LogicalType,
};
