// A lake dataset, declared once: where it lives, its columns (type, comment, PII class), its key and grain, the
// datasets it reads, how it is maintained and how it is computed. The runner (runner.ts), the warehouse model
// (src/warehouse/model.ts), the pipeline's activity dependencies (activities.ts) and docs/datasets.md derive from it.
import type { PiiClass } from '../../schemas/contract.ts';
import type { LogicalType, LoadStrategy, SchemaName } from '../warehouse/types.ts';

/** Column types of lake datasets: the warehouse's logical types, plus lists (Silver's quality flags). */
export type DatasetType = LogicalType | { kind: 'list'; of: LogicalType };

export interface DatasetColumn {
  name: string;
  type: DatasetType;
  comment: string;
  pii?: PiiClass;
}

export type Layer = 'silver' | 'gold';

/**
 * How a dataset is maintained (SQLMesh's model kinds):
 *   full                 recomputed whole on every run, one current version
 *   snapshot             recomputed as of a date, one folder per as-of date (as_of_date=D)
 *   incremental-by-time  partitions by a time column; a run rewrites only the partitions its new input touches
 *   merge-by-key         one current version, new and changed rows merged in by key
 *   append               rows are only ever added (a model version, once registered, is immutable)
 */
export type Maintenance = 'full' | 'snapshot' | 'incremental-by-time' | 'merge-by-key' | 'append';

/** Parameters every SQL compute receives. */
export interface ComputeParams {
  asOf: string;
  /** Days before a conversion in which a campaign touch can earn credit. */
  attributionWindowDays: number;
}

export interface WarehouseMapping {
  schema: SchemaName;
  /** Table name in the warehouse (upper case). */
  table: string;
  clusterBy: readonly string[];
  strategy: LoadStrategy;
  /** Time-partitioned fact: the column (e.g. DATE_KEY) whose changed values a load replaces whole. */
  partitionBy?: string;
  /** Table comment when it should read differently from the dataset's description. */
  comment?: string;
  /** Views over this table (with columns of other warehouse tables joined in), created with the tables. */
  views?: readonly WarehouseViewMapping[];
}

/**
 * A warehouse view over a dataset's table: every column of the table, plus named columns of other datasets' tables
 * LEFT JOINed on equal columns. Its columns, comments and PII classes come from those declarations.
 */
export interface WarehouseViewMapping {
  schema: SchemaName;
  name: string;
  comment: string;
  join: readonly { dataset: string; on: readonly string[]; columns: readonly string[] }[];
}

export interface Dataset {
  /** snake_case, unique; the last folder of its lake path. */
  name: string;
  layer: Layer;
  /** Lake folder (below it: as_of_date=D/ for snapshots, or the dataset's files). */
  path: string;
  description: string;
  /** What one row is, e.g. 'one row per CUSTOMER360_ID'. */
  grain: string;
  columns: readonly DatasetColumn[];
  /** Columns unique together within one as-of snapshot (or the whole dataset when it has no as-of folders). */
  primaryKey: readonly string[];
  /** Dataset names it reads (Silver tables, identity outputs, other Gold datasets). */
  inputs: readonly string[];
  maintenance: Maintenance;
  /** incremental-by-time: the column whose date names a row's partition (event_date=D); readers cut at the as-of date by it. */
  dayColumn?: string;
  /** The job that writes it (`c360 job <job>`); the pipeline activity running that job produces it. */
  job: string;
  /**
   * SQL over the runner's registered inputs (s_<short name> views of Silver cut at the as-of date, g_<name> relations);
   * absent for datasets a job computes in TypeScript (identity, models) and hands to the runner to write.
   */
  sql?(p: ComputeParams): string;
  /** Kept as temp table g_<name> after writing, for datasets computed later in the same job. */
  keep?: boolean;
  /** Shared relations (SHARED_RELATIONS in runner.ts) the SQL reads as g_<name>; computed once per job. */
  uses?: readonly string[];
  /** Several jobs each write one named file of the same as-of folder (the model registry): file name -> job. */
  parts?: Readonly<Record<string, string>>;
  /** Loaded into this warehouse table. */
  warehouse?: WarehouseMapping;
  /**
   * Rows expire by this time column, after the shortest retention period (schemas/retention.ts) of the source tables
   * named: `c360 retention` removes them from the dataset's files and its warehouse table.
   */
  retention?: { column: string; from: readonly string[] };
}

export function duckType(t: DatasetType): string {
  switch (t.kind) {
    case 'list': return `${duckType(t.of)}[]`;
    case 'varchar': return 'VARCHAR';
    case 'integer': return 'INTEGER';
    case 'bigint': return 'BIGINT';
    case 'double': return 'DOUBLE';
    case 'decimal': return `DECIMAL(${t.precision},${t.scale})`;
    case 'date': return 'DATE';
    case 'timestamp': return 'TIMESTAMP';
    case 'boolean': return 'BOOLEAN';
  }
}

/** [name, type, comment, pii?]: the compact column notation the declarations use. */
export type ColumnSpec = readonly [name: string, type: DatasetType, comment: string, pii?: PiiClass];

export function columns(specs: readonly ColumnSpec[]): DatasetColumn[] {
  return specs.map(([name, type, comment, pii]) => (pii && pii !== 'none' ? { name, type, comment, pii } : { name, type, comment }));
}
