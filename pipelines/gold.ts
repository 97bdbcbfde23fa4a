import type { SubPipeline } from './ir.ts';

export const goldAggregation: SubPipeline = {
  name: 'gold_aggregation',
  title: 'Gold aggregation',
  description: 'Customer 360 profile, behaviour, engagement, service and recommendation datasets.',
  activities: [],
};
