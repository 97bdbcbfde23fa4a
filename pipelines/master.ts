// The master pipeline: Bronze ingestion -> Silver processing -> Gold aggregation -> Snowflake (warehouse) load -> activation -> retention.
import type { MasterPipeline } from './ir.ts';
import { bronzeIngestion } from './bronze.ts';
import { silverProcessing } from './silver.ts';
import { goldAggregation } from './gold.ts';
import { warehouseLoad } from './warehouse-load.ts';
import { activation } from './activation.ts';
import { retention } from './retention.ts';

export const MASTER: MasterPipeline = {
  name: 'customer360_master',
  description: 'Customer 360 and personalization orchestration: runs the four sub-pipelines in order.',
  parameters: [
    { name: 'runDate', type: 'String', description: 'Partition date for ingestion (YYYY-MM-DD); ADF passes the trigger window start.', check: { kind: 'date' } },
    { name: 'asOf', type: 'String', description: 'As-of date for Silver/Gold (YYYY-MM-DD); empty means the latest event date in the data.', default: '', check: { kind: 'date' } },
    { name: 'loadId', type: 'String', description: 'Load id stamped on every row; ADF passes @pipeline().RunId.' },
    { name: 'horizonDays', type: 'Int', description: 'Prediction horizon for CLV and churn, in days.', default: 90, check: { kind: 'int', min: 1, max: 3650 } },
    { name: 'input', type: 'String', description: 'Where source drops are read from: a lake prefix in Azure (landing/customer360), a folder locally (c360 run --input DIR). Empty: ingest nothing, process what is in the lake.', default: '' },
    { name: 'stream', type: 'Bool', description: 'Drain the Event Hubs streams into Bronze before batch processing.', default: false },
    { name: 'trainEveryDays', type: 'Int', description: 'Retrain the CLV, churn and recommendation models when the stored ones are this many days older than the as-of date; runs in between score with them (a full refresh trains).', default: 7, check: { kind: 'int', min: 1, max: 3650 } },
    { name: 'fullRefresh', type: 'Bool', description: 'Rebuild Silver from every Bronze file instead of processing only what is new (c360 run --full-refresh; the backfill trigger).', default: false },
    { name: 'collect', type: 'Bool', description: 'Drain the hubs the collector (c360 collect) writes into Bronze before batch processing.', default: false },
  ],
  stages: [bronzeIngestion, silverProcessing, goldAggregation, warehouseLoad, activation, retention].filter((s) => s.activities.length > 0),
};

/** Every stage, including those with no activities yet (for docs and the ADF compiler's completeness checks). */
export const ALL_STAGES = [bronzeIngestion, silverProcessing, goldAggregation, warehouseLoad, activation, retention];
