// Gold intelligence step 4: hybrid recommendations (weights tuned on an earlier split) and the two baselines.
import { writeDataset } from '../src/catalogue/runner.ts';
import { lit } from '../src/engine/duckdb.ts';
import { baselineRecommendations, productRecommendations } from '../src/intelligence/datasets.ts';
import { jobAsOf } from '../src/catalogue/runner.ts';
import { AGGREGATE_SIGNAL_INPUTS, registerModelAggregates } from '../src/intelligence/daily-inputs.ts';
import { AS_OF_PARAM, horizonOf, openInputs, writeModels } from '../src/intelligence/job-support.ts';
import { openStoredSnapshot } from '../src/intelligence/snapshot-inputs.ts';
import { recommend } from '../src/intelligence/models.ts';
import type { TunedWeights } from '../src/intelligence/recommend.ts';
import type { ModelRecord } from '../src/intelligence/registry.ts';
import { readStored, trainDecision, TRAIN_PARAMS, writeStored } from '../src/intelligence/trained-models.ts';
import { UsageError } from '../src/runtime/errors.ts';
import type { Job } from '../src/runtime/job.ts';

const JOB = 'gold-intelligence-recommendations';

export const recommendationsJob: Job = {
  name: JOB,
  description: 'Top-N hybrid product recommendations -> gold/customer360/product_recommendations (+ baseline_recommendations, model_registry)',
  usesAsOf: true,
  params: [
    AS_OF_PARAM,
    { name: 'horizonDays', description: 'Days of the tuning split (default 90)', type: { kind: 'int', min: 1, max: 3650 } },
    { name: 'topN', description: 'Recommendations per customer (default 10)', type: { kind: 'int', min: 1, max: 100 } },
    ...TRAIN_PARAMS,
  ],
  async run(ctx) {
    const topN = Number(ctx.params.topN ?? 10);
    if (!Number.isInteger(topN) || topN < 1 || topN > 100) throw new UsageError(`topN must be a whole number in 1..100, got '${ctx.params.topN}'`);
    // Tune the blend on the schedule (trained-models.ts); in between, rank with the stored weights, reading the features
    // job's snapshot of the as-of date and the model aggregates (daily-inputs.ts) instead of every line and event.
    const asOf = await jobAsOf(ctx);
    const horizonDays = horizonOf(ctx.params);
    const stored = await readStored<TunedWeights>(ctx.lake, JOB);
    const decision = trainDecision(ctx.params, stored, asOf, horizonDays);
    ctx.report.metrics.training = decision;
    const light = decision.train ? null : await openStoredSnapshot(ctx);
    if (light) ctx.report.inputs.push(...(await registerModelAggregates(light.engine, ctx.lake, asOf)));
    const inputs = light ?? (await openInputs(ctx, JOB));
    if (!inputs) return;
    const { engine, snapshot, firstDate } = inputs;
    try {
      const r = await recommend(engine, snapshot, horizonDays, topN, firstDate, decision.train ? undefined : stored!.models, light ? AGGREGATE_SIGNAL_INPUTS : undefined);
      const record: ModelRecord = decision.train ? r.record : stored!.records[0]!;
      const select = (table: string, algorithm: string) => `
        SELECT CUSTOMER360_ID, PRODUCT_ID, RANK, SCORE, REASON, ${lit(algorithm)} AS ALGORITHM, ${lit(record.MODEL_VERSION)} AS MODEL_VERSION,
          DATE ${lit(asOf)} AS AS_OF_DATE FROM ${table}`;
      await writeDataset(ctx, engine, productRecommendations, `${select(r.tables.hybrid, 'hybrid')} ORDER BY CUSTOMER360_ID, RANK`, { asOf });
      await writeDataset(ctx, engine, baselineRecommendations,
        `${select(r.tables.popularity, 'popularity')} UNION ALL ${select(r.tables.repeat_purchase, 'repeat_purchase')} ORDER BY ALGORITHM, CUSTOMER360_ID, RANK`, { asOf });
      await writeModels(ctx, engine, asOf, JOB, [record]);
      if (decision.train) await writeStored(ctx, JOB, { trainedAsOf: asOf, horizonDays, models: r.tuning, records: [record] });
      ctx.report.metrics.recommendations = { version: record.MODEL_VERSION, weights: r.tuning.weights, tuned: r.tuning.tuned, validation: r.tuning.validation };
    } finally {
      engine.close();
    }
  },
};
