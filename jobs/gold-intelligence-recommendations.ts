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
import { fingerprintInputs, planRerank, writeRanked, type RerankPlan } from '../src/intelligence/rerank.ts';
import { pruneGlobalSignals, readGlobalSignals, writeGlobalSignals, type StoredSignalFiles } from '../src/intelligence/stored-signals.ts';
import { readStored, trainDecision, TRAIN_PARAMS, writeStored } from '../src/intelligence/trained-models.ts';
import { UsageError } from '../src/runtime/errors.ts';
import { faultPoint } from '../src/runtime/fault.ts';
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
    // job's snapshot of the as-of date and the model aggregates (daily-inputs.ts) instead of every line and event,
    // and only the customers whose own inputs changed (rerank.ts).
    const asOf = await jobAsOf(ctx);
    const horizonDays = horizonOf(ctx.params);
    const stored = await readStored<TunedWeights, { signals?: StoredSignalFiles }>(ctx.lake, JOB);
    const decision = trainDecision(ctx.params, stored, asOf, horizonDays);
    ctx.report.metrics.training = decision;
    const light = decision.train ? null : await openStoredSnapshot(ctx, { rows: false });
    if (light) ctx.report.inputs.push(...(await registerModelAggregates(light.engine, ctx.lake, asOf)));
    const inputs = light ?? (await openInputs(ctx, JOB, { rows: false }));
    if (!inputs) return;
    const { engine, snapshot, firstDate } = inputs;
    try {
      // The customers' input fingerprints come from the model aggregates in a training run too, so the next run
      // compares like with like.
      if (!light) await registerModelAggregates(engine, ctx.lake, asOf);
      const fingerprints = `rk_fingerprints`;
      const fp = await fingerprintInputs(engine, ctx.lake, { table: fingerprints, population: snapshot.table, asOf, prefix: 'rk_' });
      ctx.report.inputs.push(...fp.inputs);
      ctx.report.metrics.fingerprints = { mode: fp.mode, days: fp.days.length };
      const plan: RerankPlan = light
        ? await planRerank(engine, ctx.lake, { asOf, modelVersion: stored!.records[0]!.MODEL_VERSION, fingerprints, prefix: 'rk_' })
        : { reason: `training run: every customer` };
      // Between trainings, the global signals the training run stored (stored-signals.ts); without them (a lake
      // trained before they were kept), computed from every customer's lines as the training run did.
      const global = decision.train ? undefined : await readGlobalSignals(ctx.lake, stored!.signals);
      if (global) ctx.report.inputs.push(...global.inputs);
      ctx.report.metrics.globalSignals = decision.train ? 'computed (training run)' : global ? `stored by the training run as of ${stored!.trainedAsOf}` : 'computed (none stored)';
      const r = await recommend(engine, snapshot, horizonDays, topN, firstDate, decision.train ? undefined : stored!.models, light ? AGGREGATE_SIGNAL_INPUTS : undefined, { only: plan.only, global: global?.global });
      const record: ModelRecord = decision.train ? r.record : stored!.records[0]!;
      const select = (table: string, algorithm: string) => `
        SELECT CUSTOMER360_ID, PRODUCT_ID, RANK, SCORE, REASON, ${lit(algorithm)} AS ALGORITHM, ${lit(record.MODEL_VERSION)} AS MODEL_VERSION,
          DATE ${lit(asOf)} AS AS_OF_DATE FROM ${table}`;
      // Kept rows: the previous output's, as of this run's date.
      const kept = (table: string) => `
        SELECT CUSTOMER360_ID, PRODUCT_ID, RANK, SCORE, REASON, ALGORITHM, MODEL_VERSION, DATE ${lit(asOf)} AS AS_OF_DATE FROM ${table}`;
      const customers = Number(await engine.scalar(`SELECT count(*) FROM ${fingerprints}`));
      const ranked = plan.only ? Number(await engine.scalar(`SELECT count(*) FROM ${plan.only}`)) : customers;
      ctx.report.metrics.ranking = { customers, ranked, kept: customers - ranked, reason: plan.reason };
      await writeDataset(ctx, engine, productRecommendations,
        `${select(r.tables.hybrid, 'hybrid')}${plan.keep ? ` UNION ALL ${kept(plan.keep.product)}` : ''} ORDER BY CUSTOMER360_ID, RANK`, { asOf });
      await writeDataset(ctx, engine, baselineRecommendations,
        `${select(r.tables.popularity, 'popularity')} UNION ALL ${select(r.tables.repeat_purchase, 'repeat_purchase')}${plan.keep ? ` UNION ALL ${kept(plan.keep.baseline)}` : ''} ORDER BY ALGORITHM, CUSTOMER360_ID, RANK`, { asOf });
      await writeModels(ctx, engine, asOf, JOB, [record]);
      if (decision.train) {
        // The global signals first (named by the model version), then trained.json naming them, then the old ones go.
        const signals = await writeGlobalSignals(ctx, engine, JOB, record.MODEL_VERSION, r.prefix, r.ease);
        await writeStored(ctx, JOB, { trainedAsOf: asOf, horizonDays, models: r.tuning, records: [record], signals });
        await pruneGlobalSignals(ctx.lake, JOB, record.MODEL_VERSION);
      }
      faultPoint(`${JOB}:ranked`);
      await writeRanked(ctx, engine, { asOf, modelVersion: record.MODEL_VERSION, prefix: 'rk_', fingerprints: fp });
      ctx.report.metrics.recommendations = { version: record.MODEL_VERSION, weights: r.tuning.weights, tuned: r.tuning.tuned, validation: r.tuning.validation };
    } finally {
      engine.close();
    }
  },
};
