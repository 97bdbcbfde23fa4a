import type { SubPipeline } from './ir.ts';
import { warehouseLoadJob } from '../jobs/warehouse-load.ts';
import { dashboardJob } from '../jobs/dashboard.ts';

export const warehouseLoad: SubPipeline = {
  name: 'snowflake_load',
  title: 'Snowflake load',
  description: 'Loads the Gold datasets into the warehouse (DuckDB locally, Snowflake in Azure).',
  activities: [
    {
      name: 'warehouse_load',
      description: warehouseLoadJob.description,
      job: warehouseLoadJob,
      params: { loadId: '{{loadId}}', fullRefresh: '{{fullRefresh}}' },
      // One writer at a time on the warehouse file; a retry re-runs the idempotent load.
      policy: { retry: 1 },
    },
    {
      name: 'dashboard',
      description: dashboardJob.description,
      job: dashboardJob,
      // Reads the Gold snapshot the load loads (not the warehouse), so it needs only the Gold stage before it and runs
      // beside the load; its numbers equal the loaded warehouse's.
    },
  ],
};
