// Silver sub-pipeline: standardise every table (fan-out), resolve identities on CUSTOMERS, then publish every table
// with CUSTOMER360_ID and the cross-table checks. The order follows from the datasets each job reads and writes.
import type { SubPipeline } from './ir.ts';
import { ALL_CONTRACTS } from '../schemas/index.ts';
import { silverStandardiseJob } from '../jobs/silver-standardise.ts';
import { silverIdentityJob } from '../jobs/silver-identity.ts';
import { silverPublishJob } from '../jobs/silver-publish.ts';
import { withDatasetDependencies } from '../src/catalogue/activities.ts';

// The 12 source tables and the collected ones (identity links feed silver_identity; memberships get CUSTOMER360_IDs).
const TABLES = ALL_CONTRACTS.map((c) => c.name);

export const silverProcessing: SubPipeline = {
  name: 'silver_processing',
  title: 'Silver processing',
  description: 'Standardisation, data quality and identity resolution.',
  activities: withDatasetDependencies([
    {
      name: 'silver_standardise',
      description: silverStandardiseJob.description,
      job: silverStandardiseJob,
      params: { table: '{{item}}', fullRefresh: '{{fullRefresh}}' },
      forEach: { items: TABLES, batchCount: 4 },
    },
    {
      name: 'silver_identity',
      description: silverIdentityJob.description,
      job: silverIdentityJob,
      params: { fullRefresh: '{{fullRefresh}}' },
      policy: { timeoutMinutes: 180 },
    },
    {
      name: 'silver_publish',
      description: silverPublishJob.description,
      job: silverPublishJob,
      params: { table: '{{item}}', fullRefresh: '{{fullRefresh}}' },
      forEach: { items: TABLES, batchCount: 4 },
    },
  ]),
};
