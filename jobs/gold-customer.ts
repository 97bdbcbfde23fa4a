// Gold job: the CUSTOMER_360 datasets (profile, identity map, transaction and interaction facts, product and date
// dimensions, service summary) as of a date.
import type { Job } from '../src/runtime/job.ts';
import { CUSTOMER_DATASETS } from '../src/gold/datasets.ts';
import { runGoldDatasets } from '../src/gold/run-gold.ts';

export const goldCustomerJob: Job = {
  name: 'gold-customer',
  description: 'Gold: Customer 360 profile (survivorship, RFM, windows), identity map, facts, product/date dims, service',
  async run(ctx) {
    await runGoldDatasets(ctx, CUSTOMER_DATASETS);
  },
};
