import type { SubPipeline } from './ir.ts';
import { retentionJob } from '../jobs/retention.ts';

export const retention: SubPipeline = {
  name: 'retention',
  title: 'Retention',
  description: 'Removes rows past their retention period from every layer and the warehouse, after activation.',
  activities: [
    {
      name: 'retention',
      description: retentionJob.description,
      job: retentionJob,
      // Journaled and idempotent: a retry continues an interrupted run.
      policy: { retry: 1 },
    },
  ],
};
