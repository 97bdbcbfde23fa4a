// Every warehouse table, derived from the catalogue (src/catalogue): each dataset declared with a `warehouse`
// mapping is one table with the dataset's columns, key and comments. DDL, staging, COPY/INSERT and MERGE for DuckDB
// and Snowflake are rendered from this; no column list is written here.
import { CATALOGUE } from '../catalogue/index.ts';
import type { Dataset } from '../catalogue/dataset.ts';
import type { LogicalType, WarehouseTable } from './types.ts';

function toTable(ds: Dataset): WarehouseTable {
  const w = ds.warehouse!;
  return {
    schema: w.schema,
    name: w.table,
    comment: w.comment ?? ds.description,
    source: ds.name,
    primaryKey: ds.primaryKey,
    clusterBy: w.clusterBy,
    strategy: w.strategy,
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
