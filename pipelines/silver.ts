// Silver sub-pipeline: standardise every table (fan-out), resolve identities on CUSTOMERS, then publish every
// table with CUSTOMER360_ID and the cross-table checks (which need all staged tables, hence the ordering).
import type { SubPipeline } from './ir.ts';
import { ALL_CONTRACTS } from '../schemas/index.ts';
import { silverStandardiseJob } from '../jobs/silver-standardise.ts';
import { silverIdentityJob } from '../jobs/silver-identity.ts';
import { silverPublishJob } from '../jobs/silver-publish.ts';

// The 12 source tables and the collected ones (identity links feed silver_identity; memberships get CUSTOMER360_IDs).
const TABLES = ALL_CONTRACTS.map((c) => c.name);

export const silverProcessing: SubPipeline = {
  name: 'silver_processing',
  title: 'Silver processing',
  description: 'Standardisation, data quality and identity resolution.',
  activities: [
    {
      name: 'silver_standardise',
      description: silverStandardiseJob.description,
      job: silverStandardiseJob,
      params: { table: '{{item}}', asOf: '{{asOf}}' },
      forEach: { items: TABLES, batchCount: 4 },
    },
    {
      name: 'silver_identity',
      description: silverIdentityJob.description,
      job: silverIdentityJob,
      dependsOn: ['silver_standardise'],
      policy: { timeoutMinutes: 180 },
    },
    {
      name: 'silver_publish',
      description: silverPublishJob.description,
      job: silverPublishJob,
      params: { table: '{{item}}' },
      forEach: { items: TABLES, batchCount: 4 },
      dependsOn: ['silver_identity'],
    },
  ],
};
