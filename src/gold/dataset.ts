// Gold datasets are catalogue datasets (src/catalogue/dataset.ts) with a SQL compute over the runner's inputs; this
// file holds what their declarations share: the builder, column specs used by many, and the business predicates.
import { columns, type ColumnSpec, type ComputeParams, type Dataset } from '../catalogue/dataset.ts';
import { T } from '../warehouse/types.ts';
import { GOLD_ROOT } from './paths.ts';

export type GoldParams = ComputeParams;
export type GoldDataset = Dataset;

/**
 * A Gold dataset declaration: an as-of snapshot under gold/customer360/<name>/ unless said otherwise. Columns are
 * given in the compact [name, type, comment, pii?] notation; the SQL must produce exactly them (the runner checks).
 */
export function gold(d: Omit<Dataset, 'layer' | 'path' | 'maintenance' | 'columns' | 'inputs'> & {
  columns: readonly ColumnSpec[];
  maintenance?: Dataset['maintenance'];
  inputs?: readonly string[];
}): Dataset {
  return { layer: 'gold', path: `${GOLD_ROOT}/${d.name}`, maintenance: 'snapshot', inputs: [], ...d, columns: columns(d.columns) };
}

export const ID: ColumnSpec = ['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution (CUSTOMER360_ID)'];
export const AS_OF: ColumnSpec = ['AS_OF_DATE', T.date, 'As-of date: only data with event time on or before it was used'];
export const DATE_KEY: ColumnSpec = ['DATE_KEY', T.integer, 'Date key YYYYMMDD (DIM_DATE)'];

export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7;

/** Feature windows of the profile, in days (a day d is in the N-day window when asOf - d < N). */
export const WINDOWS = [7, 30, 90] as const;

/** The predicate marking a purchase that counts: a completed PURCHASE transaction. */
export const IS_PURCHASE = "TRANSACTION_TYPE = 'PURCHASE' AND TRANSACTION_STATUS = 'COMPLETED'";
export const IS_RETURN = "TRANSACTION_TYPE IN ('RETURN', 'REFUND') AND TRANSACTION_STATUS = 'COMPLETED'";

/** YYYYMMDD as an integer; date-part arithmetic gives the same key as strftime at a quarter of the cost per row. */
export const dateKey = (ts: string) => `CAST(year(${ts}) * 10000 + month(${ts}) * 100 + day(${ts}) AS INTEGER)`;
