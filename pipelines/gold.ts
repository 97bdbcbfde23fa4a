import type { Activity, SubPipeline } from './ir.ts';
import { intelligenceActivities } from './gold-intelligence.ts';
import { goldCustomerJob } from '../jobs/gold-customer.ts';
import { goldBehaviorJob } from '../jobs/gold-behavior.ts';
import { goldCampaignsJob } from '../jobs/gold-campaigns.ts';
import { goldPersonalizationJob } from '../jobs/gold-personalization.ts';

const asOf = { asOf: '{{asOf}}' };

const descriptive: Activity[] = [
  { name: 'gold_customer', description: goldCustomerJob.description, job: goldCustomerJob, params: asOf },
  { name: 'gold_behavior', description: goldBehaviorJob.description, job: goldBehaviorJob, params: asOf },
  { name: 'gold_campaigns', description: goldCampaignsJob.description, job: goldCampaignsJob, params: asOf },
];

export const goldAggregation: SubPipeline = {
  name: 'gold_aggregation',
  title: 'Gold aggregation',
  description: 'Customer 360 profile, behaviour, engagement, service and recommendation datasets.',
  activities: [
    ...descriptive,
    ...intelligenceActivities,
    {
      name: 'gold_personalization',
      description: goldPersonalizationJob.description,
      job: goldPersonalizationJob,
      params: asOf,
      // Reads the recommendations and model registry the intelligence activities write.
      dependsOn: [...descriptive.map((a) => a.name), ...intelligenceActivities.map((a) => a.name)],
    },
  ],
};
