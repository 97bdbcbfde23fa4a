// Gold job: the CUSTOMER_360 datasets (profile, identity map, transaction and interaction facts, product and date
// dimensions, service summary) as of a date: the catalogue datasets declared with job 'gold-customer'.
import { goldSqlJob } from '../src/gold/run-gold.ts';

export const goldCustomerJob = goldSqlJob({
  name: 'gold-customer',
  description: 'Gold: Customer 360 profile (survivorship, RFM, windows), identity map, facts, product/date dims, service',
});
