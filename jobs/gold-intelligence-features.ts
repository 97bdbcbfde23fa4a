// Gold intelligence step 1: the versioned feature snapshot as of the run's as-of date.
import { openInputs } from '../src/intelligence/job-support.ts';
import { writeGold } from '../src/intelligence/lake-io.ts';
import type { Job } from '../src/runtime/job.ts';

export const featuresJob: Job = {
  name: 'gold-intelligence-features',
  description: 'Feature snapshot (7/30/90-day windows) as of the as-of date -> gold/customer360/feature_snapshots',
  params: [{ name: 'horizonDays', description: 'Prediction horizon in days (default 90)' }],
  async run(ctx) {
    const inputs = await openInputs(ctx);
    if (!inputs) return;
    const { engine, asOf, snapshot } = inputs;
    try {
      const out = await writeGold(engine, ctx.lake, 'feature_snapshots', asOf, `SELECT * FROM ${snapshot.table} ORDER BY CUSTOMER360_ID`);
      ctx.report.outputs.push(out.path);
      ctx.report.rowCounts.feature_snapshots = out.rows;
    } finally {
      engine.close();
    }
  },
};
