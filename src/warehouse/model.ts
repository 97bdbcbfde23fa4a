// Every warehouse table, derived from the catalogue (src/catalogue): each dataset declared with a `warehouse`
// mapping is one table with the dataset's columns, key and comments. DDL, staging, COPY/INSERT and MERGE for DuckDB
// and Snowflake are rendered from this; no column list is written here.
import { CATALOGUE, getDataset } from '../catalogue/index.ts';
import { GOLD_ROOT, goldDir } from '../gold/paths.ts';
import type { Dataset } from '../catalogue/dataset.ts';
import { dayPartitionFiles } from '../gold/day-partitioned.ts';
import type { Lake } from '../lake/lake.ts';
import { parquetFiles } from '../lake/parquet.ts';
import type { LogicalType, WarehouseColumn, WarehouseTable, WarehouseView } from './types.ts';

function toTable(ds: Dataset): WarehouseTable {
  const w = ds.warehouse!;
  if (w.partitionBy && (w.strategy !== 'snapshot' || !ds.columns.some((c) => c.name === w.partitionBy))) {
    throw new Error(`${w.schema}.${w.table}: partitionBy ${w.partitionBy} needs a snapshot table with that column`);
  }
  return {
    schema: w.schema,
    name: w.table,
    comment: w.comment ?? ds.description,
    source: ds.name,
    primaryKey: ds.primaryKey,
    clusterBy: w.clusterBy,
    strategy: w.strategy,
    ...(w.partitionBy ? { partitionBy: w.partitionBy } : {}),
    ...(ds.maintenance === 'incremental-by-time' && ds.dayColumn ? { dayColumn: ds.dayColumn } : {}),
    columns: ds.columns.map((c) => {
      if (c.type.kind === 'list') throw new Error(`${w.schema}.${w.table}: column ${c.name} is a list, which the warehouse does not take`);
      return { name: c.name, type: c.type as LogicalType, comment: c.comment, ...(c.pii ? { pii: c.pii } : {}) };
    }),
  };
}

const ORDER = ['CUSTOMER_360', 'CUSTOMER_BEHAVIOR', 'RECOMMENDATIONS'];

/** The warehouse tables, by schema (in SCHEMAS order), then in catalogue order. */
export const WAREHOUSE_TABLES: readonly WarehouseTable[] = CATALOGUE.filter((d) => d.warehouse)
  .map(toTable)
  .sort((a, b) => ORDER.indexOf(a.schema) - ORDER.indexOf(b.schema));

export function getTable(schema: string, name: string): WarehouseTable {
  const found = WAREHOUSE_TABLES.find((x) => x.schema === schema && x.name === name);
  if (!found) throw new Error(`Unknown warehouse table ${schema}.${name}`);
  return found;
}

function toView(ds: Dataset, v: NonNullable<NonNullable<Dataset['warehouse']>['views']>[number]): WarehouseView {
  const where = `view ${v.schema}.${v.name}`;
  const from = WAREHOUSE_TABLES.find((t) => t.source === ds.name)!;
  const columns: WarehouseColumn[] = [...from.columns];
  const joins = v.join.map((j) => {
    const table = WAREHOUSE_TABLES.find((t) => t.source === j.dataset);
    if (!table) throw new Error(`${where}: joins dataset ${j.dataset}, which has no warehouse table`);
    for (const k of j.on) {
      if (!from.columns.some((c) => c.name === k) || !table.columns.some((c) => c.name === k)) throw new Error(`${where}: join column ${k} is not in both ${from.name} and ${table.name}`);
    }
    for (const name of j.columns) {
      const c = table.columns.find((x) => x.name === name);
      if (!c) throw new Error(`${where}: ${table.name} has no column ${name}`);
      if (columns.some((x) => x.name === name)) throw new Error(`${where}: column ${name} would appear twice`);
      columns.push({ ...c, comment: `${c.comment} (${table.name})` });
    }
    return { table, on: j.on, columns: j.columns };
  });
  return { schema: v.schema, name: v.name, comment: v.comment, from, joins, columns };
}

/** The warehouse views (the CUSTOMER_360 view over the profile), from the views declared on catalogue datasets. */
export const WAREHOUSE_VIEWS: readonly WarehouseView[] = CATALOGUE.flatMap((d) => (d.warehouse?.views ?? []).map((v) => toView(d, v)));

/**
 * The lake folder a load reads a table from: the Gold snapshot of the as-of date, or, for a dataset kept as one
 * current version (merged by key, e.g. the retired-id redirects identity maintains), that version's folder. Both lie
 * below Gold's root, which the Snowflake stage points at.
 */
export function sourceDir(t: WarehouseTable, asOf: string): string {
  const ds = getDataset(t.source);
  if (ds.maintenance !== 'merge-by-key' && ds.maintenance !== 'incremental-by-time') return goldDir(t.source, asOf);
  if (!ds.path.startsWith(`${GOLD_ROOT}/`)) throw new Error(`${t.schema}.${t.name}: dataset ${ds.name} lives outside ${GOLD_ROOT}, which the warehouse stage reads`);
  return ds.path;
}

/**
 * A dataset partitioned by day (event_date=D/, maintained for the changed days) holds every day: a load reads the days
 * up to the as-of date, by its day column.
 */
export function sourceUntil(t: WarehouseTable, asOf: string): { column: string; date: string } | undefined {
  return t.dayColumn ? { column: t.dayColumn, date: asOf } : undefined;
}

/** The Parquet files a load reads for a table: the snapshot's, the current version's, or the days up to the as-of date (from the dataset's state). */
export async function sourceFiles(lake: Lake, t: WarehouseTable, asOf: string): Promise<string[]> {
  const ds = getDataset(t.source);
  if (ds.maintenance === 'incremental-by-time') return dayPartitionFiles(lake, ds.path, asOf);
  return parquetFiles(lake, sourceDir(t, asOf));
}

/** A table whose source is one current version (absent until its job first runs) rather than a dated snapshot. */
export const isCurrentVersion = (t: WarehouseTable): boolean => getDataset(t.source).maintenance === 'merge-by-key';
