// The Snowflake-load sub-pipeline run locally: loads the Gold snapshot of the as-of date into H/warehouse.duckdb
// (schemas CUSTOMER_360, CUSTOMER_BEHAVIOR, RECOMMENDATIONS), idempotently. In Azure, `c360 snowflake load` does the
// same with the same plan rendered for Snowflake.
import { join } from 'node:path';
import type { Job } from '../src/runtime/job.ts';
import { UsageError } from '../src/runtime/errors.ts';
import { GOLD_ROOT, assertIsoDate } from '../src/gold/paths.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import type { Lake } from '../src/lake/lake.ts';

/** The latest as-of date with a customer_profile snapshot in the lake. */
export async function latestGoldAsOf(lake: Lake): Promise<string | undefined> {
  const dates = (await lake.list(`${GOLD_ROOT}/customer_profile`))
    .map((f) => /as_of_date=(\d{4}-\d{2}-\d{2})\//.exec(f.path)?.[1])
    .filter((x): x is string => x !== undefined)
    .sort();
  return dates.at(-1);
}

export function warehousePath(home: string): string {
  return join(home, 'warehouse.duckdb');
}

export const warehouseLoadJob: Job = {
  name: 'warehouse-load',
  description: 'Load the Gold snapshot of the as-of date into the local DuckDB warehouse (H/warehouse.duckdb)',
  params: [{ name: 'warehouse', description: 'DuckDB file (default: HOME/warehouse.duckdb)' }],
  async run(ctx) {
    const asOf = ctx.asOf ? assertIsoDate(ctx.asOf) : await latestGoldAsOf(ctx.lake);
    if (!asOf) throw new UsageError(`No Gold snapshot in the lake (${GOLD_ROOT}/customer_profile): run the Gold stage first`);
    const path = ctx.params.warehouse || warehousePath(ctx.home);
    const engine = await ctx.openEngine({ path });
    try {
      const results = await loadWarehouse(engine, ctx.lake, { asOf, loadId: ctx.loadId, log: ctx.log });
      for (const r of results) {
        ctx.report.inputs.push(...r.files);
        ctx.report.rowCounts[r.table] = r.tableRows;
      }
      ctx.report.outputs.push(path);
      ctx.report.metrics.asOf = asOf;
      ctx.report.metrics.skipped = results.filter((r) => r.status === 'skipped').map((r) => r.table);
      const missing = Object.fromEntries(results.filter((r) => r.missingColumns.length).map((r) => [r.table, r.missingColumns]));
      if (Object.keys(missing).length) ctx.report.metrics.missingColumns = missing;
      await engine.run('CHECKPOINT');
    } finally {
      engine.close();
    }
  },
};
