// Gold job: campaign performance per channel, last-touch and linear attribution, ROI.
import { goldSqlJob } from '../src/gold/run-gold.ts';

export const goldCampaignsJob = goldSqlJob({
  name: 'gold-campaigns',
  description: 'Gold: campaign funnel per channel, attribution (last touch, linear within a window), ROI',
  params: [{ name: 'attributionWindowDays', description: 'Days before a purchase in which a touch earns credit (default 7)', type: { kind: 'int', min: 1, max: 365 } }],
});
