// Gold intelligence step 1: the versioned feature snapshot as of the run's as-of date.
import { writeDataset } from '../src/catalogue/runner.ts';
import { featureSnapshots } from '../src/intelligence/datasets.ts';
import { AS_OF_PARAM, openInputs } from '../src/intelligence/job-support.ts';
import type { Job } from '../src/runtime/job.ts';

export const featuresJob: Job = {
  name: 'gold-intelligence-features',
  description: 'Feature snapshot (7/30/90-day windows) as of the as-of date -> gold/customer360/feature_snapshots',
  usesAsOf: true,
  params: [AS_OF_PARAM, { name: 'horizonDays', description: 'Prediction horizon in days (default 90)', type: { kind: 'int', min: 1, max: 3650 } }],
  async run(ctx) {
    const inputs = await openInputs(ctx, 'gold-intelligence-features');
    if (!inputs) return;
    const { engine, asOf, snapshot } = inputs;
    try {
      await writeDataset(ctx, engine, featureSnapshots, `SELECT * FROM ${snapshot.table} ORDER BY CUSTOMER360_ID`, { asOf });
    } finally {
      engine.close();
    }
  },
};
