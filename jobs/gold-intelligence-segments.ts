// Gold intelligence step 3: RFM codes + k-means segments with stable labels -> customer_segments, segment_profiles.
import { writeDataset } from '../src/catalogue/runner.ts';
import { lit } from '../src/engine/duckdb.ts';
import { customerSegments, segmentProfiles } from '../src/intelligence/datasets.ts';
import { AS_OF_PARAM, HORIZON_PARAM, openInputs, writeModels } from '../src/intelligence/job-support.ts';
import { tableFromRecords } from '../src/intelligence/lake-io.ts';
import { segmentCustomers } from '../src/intelligence/models.ts';
import { openStoredSnapshot } from '../src/intelligence/snapshot-inputs.ts';
import { UsageError } from '../src/runtime/errors.ts';
import type { Job } from '../src/runtime/job.ts';

export const segmentsJob: Job = {
  name: 'gold-intelligence-segments',
  description: 'RFM + k-means customer segments and profiles -> gold/customer360/customer_segments (+ segment_profiles, model_registry)',
  usesAsOf: true,
  params: [AS_OF_PARAM, HORIZON_PARAM, { name: 'k', description: 'Number of k-means clusters (default 5)', type: { kind: 'int', min: 1, max: 50 } }],
  async run(ctx) {
    const k = Number(ctx.params.k ?? 5);
    if (!Number.isInteger(k) || k < 1 || k > 50) throw new UsageError(`k must be a whole number in 1..50, got '${ctx.params.k}'`);
    // The features job's snapshot of this as-of date when there is one (no second load of Silver), else load.
    const inputs = (await openStoredSnapshot(ctx)) ?? (await openInputs(ctx, 'gold-intelligence-segments'));
    if (!inputs) return;
    const { engine, asOf, snapshot, firstDate } = inputs;
    try {
      const { model, record } = segmentCustomers(snapshot, k, 42, firstDate);
      await tableFromRecords(engine, 'segment_rows', [
        ['CUSTOMER360_ID', 'VARCHAR'], ['SEGMENT_ID', 'INTEGER'], ['SEGMENT_LABEL', 'VARCHAR'], ['RFM_CODE', 'VARCHAR'], ['RFM_SEGMENT', 'VARCHAR'],
      ], model.assignments as unknown as Record<string, unknown>[]);
      await writeDataset(ctx, engine, customerSegments, `
        SELECT CUSTOMER360_ID, DATE ${lit(asOf)} AS AS_OF_DATE, SEGMENT_ID, SEGMENT_LABEL, ${lit(record.MODEL_VERSION)} AS MODEL_VERSION,
          RFM_CODE, RFM_SEGMENT
        FROM segment_rows ORDER BY CUSTOMER360_ID`, { asOf });
      await tableFromRecords(engine, 'profile_rows', [
        ['SEGMENT_ID', 'INTEGER'], ['SEGMENT_LABEL', 'VARCHAR'], ['CUSTOMERS', 'INTEGER'], ['SHARE', 'DOUBLE'], ['AVG_REVENUE', 'DOUBLE'],
        ['AVG_ORDERS', 'DOUBLE'], ['AVG_ORDER_VALUE', 'DOUBLE'], ['AVG_DAYS_SINCE_LAST_PURCHASE', 'DOUBLE'], ['AVG_TENURE_DAYS', 'DOUBLE'], ['AVG_EVENTS_90D', 'DOUBLE'],
      ], model.profiles as unknown as Record<string, unknown>[]);
      await writeDataset(ctx, engine, segmentProfiles, `
        SELECT DATE ${lit(asOf)} AS AS_OF_DATE, *, ${lit(record.MODEL_VERSION)} AS MODEL_VERSION FROM profile_rows ORDER BY SEGMENT_ID`, { asOf });
      await writeModels(ctx, engine, asOf, 'gold-intelligence-segments', [record]);
      ctx.report.metrics.segments = Object.fromEntries(model.profiles.map((p) => [p.SEGMENT_LABEL, p.CUSTOMERS]));
    } finally {
      engine.close();
    }
  },
};
