import type { SubPipeline } from './ir.ts';

export const warehouseLoad: SubPipeline = {
  name: 'snowflake_load',
  title: 'Snowflake load',
  description: 'Loads the Gold datasets into the warehouse (DuckDB locally, Snowflake in Azure).',
  activities: [],
};
