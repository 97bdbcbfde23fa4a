import type { SubPipeline } from './ir.ts';
import { TABLE_NAMES } from '../schemas/index.ts';
import { bronzeIngestJob } from '../jobs/bronze-ingest.ts';
import { bronzeStreamJob } from '../jobs/bronze-stream.ts';
import { DEFAULT_HUBS } from '../src/collect/hubs.ts';

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
    {
      name: 'stream_events',
      description: 'Drain the Event Hubs streams into Bronze exactly once, stopping once caught up (locally: replay the input drops of the streaming tables through an in-process endpoint).',
      job: bronzeStreamJob,
      // Hub and consumer group are the ones bicep/modules/event-hubs.bicep creates.
      params: { hub: 'customer360', consumerGroup: 'bronze', input: '{{input}}', untilIdle: '30' },
      when: 'stream',
      // Checkpoints live in the lake, so a retry resumes where the failed attempt committed.
      policy: { timeoutMinutes: 120, retry: 3, retryIntervalSeconds: 60 },
    },
    {
      name: 'stream_collected',
      description: 'Drain the hubs `c360 collect` writes (track/page/screen events; identify records, identity links, memberships) into Bronze exactly once, stopping once caught up.',
      job: bronzeStreamJob,
      // Hubs and consumer group created by bicep/modules/event-hubs.bicep.
      params: { hub: '{{item}}', consumerGroup: 'bronze', untilIdle: '30' },
      forEach: { items: [DEFAULT_HUBS.behavioral, DEFAULT_HUBS.identity], batchCount: 2 },
      when: 'collect',
      policy: { timeoutMinutes: 120, retry: 3, retryIntervalSeconds: 60 },
    },
  ],
};
