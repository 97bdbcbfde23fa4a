// Gold job: campaign performance per channel, last-touch and linear attribution, ROI.
import type { Job } from '../src/runtime/job.ts';
import { CAMPAIGN_DATASETS } from '../src/gold/datasets.ts';
import { runGoldDatasets } from '../src/gold/run-gold.ts';

export const goldCampaignsJob: Job = {
  name: 'gold-campaigns',
  description: 'Gold: campaign funnel per channel, attribution (last touch, linear within a window), ROI',
  params: [{ name: 'attributionWindowDays', description: 'Days before a purchase in which a touch earns credit (default 7)' }],
  async run(ctx) {
    await runGoldDatasets(ctx, CAMPAIGN_DATASETS);
  },
};
