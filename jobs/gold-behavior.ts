// Gold job: the CUSTOMER_BEHAVIOR datasets (event fact, sessions, touchpoints, time, activity aggregates, funnel).
import { goldSqlJob } from '../src/gold/run-gold.ts';

export const goldBehaviorJob = goldSqlJob({
  name: 'gold-behavior',
  description: 'Gold: behavioural event fact, sessions, touchpoints, daily/weekly/monthly activity, funnel',
});
