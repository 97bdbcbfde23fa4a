// The Snowflake-load sub-pipeline run locally: loads the Gold snapshot of the run's as-of date into
// H/warehouse.duckdb (schemas CUSTOMER_360, CUSTOMER_BEHAVIOR, RECOMMENDATIONS), idempotently. Every warehouse table
// of the catalogue must have its snapshot: a missing one fails the load before anything changes. In Azure,
// `c360 snowflake load` does the same with the same plan rendered for Snowflake.
import { join } from 'node:path';
import { jobAsOf } from '../src/catalogue/runner.ts';
import type { Job } from '../src/runtime/job.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';

export function warehousePath(home: string): string {
  return join(home, 'warehouse.duckdb');
}

export const warehouseLoadJob: Job = {
  name: 'warehouse-load',
  description: 'Load the Gold snapshot of the as-of date into the local DuckDB warehouse (H/warehouse.duckdb)',
  usesAsOf: true,
  params: [
    { name: 'asOf', description: "As-of date of the Gold snapshot YYYY-MM-DD (default: the run's, else the latest event date in the data)", type: { kind: 'date' } },
    { name: 'loadId', description: 'Load id stamped on the loaded rows (the run\'s; ADF: @pipeline().RunId)' },
    { name: 'warehouse', description: 'DuckDB file (default: HOME/warehouse.duckdb)' },
    { name: 'fullRefresh', description: "'true': restage and rewrite every row (c360 run --full-refresh); default: only what changed" },
  ],
  async run(ctx) {
    const asOf = await jobAsOf(ctx);
    const path = ctx.params.warehouse || warehousePath(ctx.home);
    const engine = await ctx.openEngine({ path });
    try {
      const fullRefresh = !['', 'false', '0'].includes(String(ctx.params.fullRefresh ?? '').toLowerCase());
      const results = await loadWarehouse(engine, ctx.lake, { asOf, loadId: ctx.loadId, log: ctx.log, fullRefresh });
      ctx.report.metrics.fullRefresh = fullRefresh;
      for (const r of results) {
        ctx.report.inputs.push(...r.files);
        ctx.report.rowCounts[r.table] = r.tableRows;
      }
      // What this load changed: rows staged and merged, keys deleted, partitions replaced (a re-run: nothing).
      ctx.report.metrics.staged = Object.fromEntries(results.map((r) => [r.table, r.staged]));
      // Where the load's time goes, and which days of the day-partitioned facts it read.
      ctx.report.metrics.tableMs = Object.fromEntries(results.map((r) => [r.table, r.ms ?? 0]));
      ctx.report.metrics.factDays = Object.fromEntries(results.filter((r) => r.days !== undefined).map((r) => [r.table, r.days === 'all' ? 'all' : r.days!.length]));
      ctx.report.outputs.push(path);
      const missing = Object.fromEntries(results.filter((r) => r.missingColumns.length).map((r) => [r.table, r.missingColumns]));
      if (Object.keys(missing).length) ctx.report.metrics.missingColumns = missing;
      await engine.run('CHECKPOINT');
    } finally {
      engine.close();
    }
  },
};
