import type { SubPipeline } from './ir.ts';

export const bronzeIngestion: SubPipeline = {
  name: 'bronze_ingestion',
  title: 'Bronze ingestion',
  description: 'Validates source drops and streams against their contracts into Parquet on the lake; invalid records go to quarantine.',
  activities: [],
};
