import type { SubPipeline } from './ir.ts';

export const silverProcessing: SubPipeline = {
  name: 'silver_processing',
  title: 'Silver processing',
  description: 'Standardisation, data quality and identity resolution.',
  activities: [],
};
