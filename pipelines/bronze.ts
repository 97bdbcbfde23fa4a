import type { SubPipeline } from './ir.ts';
import { TABLE_NAMES } from '../schemas/index.ts';
import { bronzeIngestJob } from '../jobs/bronze-ingest.ts';

export const bronzeIngestion: SubPipeline = {
  name: 'bronze_ingestion',
  title: 'Bronze ingestion',
  description: 'Validates source drops and streams against their contracts into Parquet on the lake; invalid records go to quarantine.',
  activities: [
    {
      name: 'ingest_drops',
      description: 'Ingest the batch drops of each source table (streaming tables are skipped when the stream parameter is set).',
      job: bronzeIngestJob,
      params: { table: '{{item}}', input: '{{input}}', stream: '{{stream}}' },
      forEach: { items: TABLE_NAMES, batchCount: 4 },
      when: 'input',
      // Reading a drop can fail transiently on ADLS; validation itself is deterministic, so few retries suffice.
      policy: { timeoutMinutes: 60, retry: 2, retryIntervalSeconds: 30 },
    },
  ],
};
