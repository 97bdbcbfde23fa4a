// Lake paths the Gold layer reads and writes (the lead's layout: silver/customer360/<bronzeDir>/*.parquet,
// gold/customer360/<dataset>/as_of_date=YYYY-MM-DD/*.parquet).
import { joinLake } from '../lake/lake.ts';

export const SILVER_ROOT = 'silver/customer360';
export const GOLD_ROOT = 'gold/customer360';

export function silverDir(dir: string): string {
  return joinLake(SILVER_ROOT, dir);
}

export function goldDir(dataset: string, asOf: string): string {
  return joinLake(GOLD_ROOT, dataset, `as_of_date=${asOf}`);
}

export function assertIsoDate(value: string, what = 'as-of date'): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new Error(`Invalid ${what} '${value}': expected YYYY-MM-DD`);
  }
  return value;
}

/** A DuckDB/Snowflake DATE literal for a validated ISO date. */
export function dateLit(iso: string): string {
  return `DATE '${assertIsoDate(iso)}'`;
}
