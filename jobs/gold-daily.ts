// Gold job: the per-customer-day and per-customer-touchpoint-day aggregates (src/gold/daily-aggregates.ts), brought up
// to date with Silver for the days Silver changed; `fullRefresh=true` recomputes every day.
import { maintainAggregates } from '../src/gold/daily-aggregates.ts';
import { truthy } from '../src/silver/incremental.ts';
import type { Job } from '../src/runtime/job.ts';

export const goldDailyJob: Job = {
  name: 'gold-daily',
  description: 'Gold: per-customer-day and per-touchpoint-day aggregates, recomputed for the days Silver changed',
  params: [{ name: 'fullRefresh', description: "'true': recompute every day", type: { kind: 'bool' } }],
  async run(ctx) {
    const engine = await ctx.openEngine();
    try {
      await maintainAggregates(ctx, engine, { full: truthy(ctx.params.fullRefresh) });
    } finally {
      engine.close();
    }
  },
};
