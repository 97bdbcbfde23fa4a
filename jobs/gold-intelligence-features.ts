// Gold intelligence step 1: the versioned feature snapshot as of the run's as-of date, summed from day-partitioned
// aggregates the job keeps up to date with Silver (src/intelligence/daily-inputs.ts: only the days Silver changed are
// recomputed), not from a load of all of Silver. `fullRefresh=true` recomputes every day of the aggregates.
import { emptySql, jobAsOf, writeDataset } from '../src/catalogue/runner.ts';
import { AGGREGATE_FEATURE_INPUTS, maintainModelAggregates, registerModelAggregates } from '../src/intelligence/daily-inputs.ts';
import { featureSnapshots } from '../src/intelligence/datasets.ts';
import { buildSnapshot } from '../src/intelligence/features.ts';
import { loadCustomers } from '../src/intelligence/input.ts';
import { AS_OF_PARAM, HORIZON_PARAM, MIN_PURCHASERS } from '../src/intelligence/job-support.ts';
import { truthy } from '../src/silver/incremental.ts';
import type { Job } from '../src/runtime/job.ts';

export const featuresJob: Job = {
  name: 'gold-intelligence-features',
  description: 'Feature snapshot (7/30/90-day windows) as of the as-of date -> gold/customer360/feature_snapshots (+ the model aggregates under gold/aggregates/)',
  usesAsOf: true,
  params: [AS_OF_PARAM, HORIZON_PARAM, { name: 'fullRefresh', description: "'true': recompute every day of the model aggregates", type: { kind: 'bool' } }],
  async run(ctx) {
    const asOf = await jobAsOf(ctx);
    const engine = await ctx.openEngine();
    try {
      await maintainModelAggregates(ctx, engine, truthy(ctx.params.fullRefresh));
      ctx.report.inputs.push(...(await registerModelAggregates(engine, ctx.lake, asOf)));
      const customers = await loadCustomers(engine, ctx.lake, asOf);
      ctx.report.inputs.push(...customers.inputs);
      for (const [k, v] of Object.entries(customers.excluded)) ctx.report.rowCounts[`excluded.${k}`] = v;
      const purchasers = Number(await engine.scalar(`SELECT count(DISTINCT CUSTOMER360_ID) FROM ${AGGREGATE_FEATURE_INPUTS.days} WHERE ORDERS > 0`));
      if (purchasers < MIN_PURCHASERS) {
        // Nothing to model (the other intelligence jobs say why and write theirs empty): an empty snapshot.
        ctx.report.metrics.skipped = `${purchasers} customer(s) with completed purchases on or before ${asOf}; at least ${MIN_PURCHASERS} are needed`;
        await writeDataset(ctx, engine, featureSnapshots, emptySql(featureSnapshots), { asOf });
        return;
      }
      const snapshot = await buildSnapshot(engine, asOf, AGGREGATE_FEATURE_INPUTS, { rows: false });
      ctx.report.metrics.featureSnapshotVersion = snapshot.version;
      await writeDataset(ctx, engine, featureSnapshots, `SELECT * FROM ${snapshot.table} ORDER BY CUSTOMER360_ID`, { asOf });
    } finally {
      engine.close();
    }
  },
};
