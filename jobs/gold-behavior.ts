// Gold job: the CUSTOMER_BEHAVIOR datasets (event fact, sessions, touchpoints, time, activity aggregates, funnel).
import type { Job } from '../src/runtime/job.ts';
import { BEHAVIOR_DATASETS } from '../src/gold/datasets.ts';
import { runGoldDatasets } from '../src/gold/run-gold.ts';

export const goldBehaviorJob: Job = {
  name: 'gold-behavior',
  description: 'Gold: behavioural event fact, sessions, touchpoints, daily/weekly/monthly activity, funnel',
  async run(ctx) {
    await runGoldDatasets(ctx, BEHAVIOR_DATASETS);
  },
};
