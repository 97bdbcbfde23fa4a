// Gold sub-pipeline: the descriptive Gold jobs, the intelligence jobs and personalization. Their order follows from
// the catalogue (personalization reads the recommendations and model registry the intelligence jobs write).
import type { SubPipeline } from './ir.ts';
import { intelligenceActivities } from './gold-intelligence.ts';
import { goldCustomerJob } from '../jobs/gold-customer.ts';
import { goldDailyJob } from '../jobs/gold-daily.ts';
import { goldBehaviorJob } from '../jobs/gold-behavior.ts';
import { goldCampaignsJob } from '../jobs/gold-campaigns.ts';
import { goldPersonalizationJob } from '../jobs/gold-personalization.ts';
import { goldAudiencesJob } from '../jobs/gold-audiences.ts';
import { goldProfileChangesJob } from '../jobs/gold-profile-changes.ts';
import { withDatasetDependencies } from '../src/catalogue/activities.ts';

export const goldAggregation: SubPipeline = {
  name: 'gold_aggregation',
  title: 'Gold aggregation',
  description: 'Customer 360 profile, behaviour, engagement, service and recommendation datasets.',
  activities: withDatasetDependencies([
    { name: 'gold_daily', description: goldDailyJob.description, job: goldDailyJob, params: { fullRefresh: '{{fullRefresh}}' } },
    { name: 'gold_customer', description: goldCustomerJob.description, job: goldCustomerJob, params: { fullRefresh: '{{fullRefresh}}' } },
    { name: 'gold_behavior', description: goldBehaviorJob.description, job: goldBehaviorJob, params: { fullRefresh: '{{fullRefresh}}' } },
    { name: 'gold_campaigns', description: goldCampaignsJob.description, job: goldCampaignsJob, params: { fullRefresh: '{{fullRefresh}}' } },
    ...intelligenceActivities,
    { name: 'gold_personalization', description: goldPersonalizationJob.description, job: goldPersonalizationJob, params: { fullRefresh: '{{fullRefresh}}' } },
    { name: 'gold_profile_changes', description: goldProfileChangesJob.description, job: goldProfileChangesJob },
    { name: 'gold_audiences', description: goldAudiencesJob.description, job: goldAudiencesJob },
  ]),
};
