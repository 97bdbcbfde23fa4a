import type { SubPipeline } from './ir.ts';
import { activateJob } from '../jobs/activate.ts';

export const activation: SubPipeline = {
  name: 'activation',
  title: 'Activation',
  description: 'Delivers profile changes and audience events to topics, webhooks and lake files, after the warehouse load.',
  activities: [
    {
      name: 'activate',
      description: activateJob.description,
      job: activateJob,
      // Destinations resume from their cursors, so a retry re-sends nothing acknowledged.
      policy: { retry: 2, retryIntervalSeconds: 120 },
    },
  ],
};
