// Gold intelligence step 2: CLV (BG/NBD + Gamma-Gamma) and churn (logistic + Platt) -> risk_scores, model registry.
import { writeDataset } from '../src/catalogue/runner.ts';
import { lit } from '../src/engine/duckdb.ts';
import { riskScores } from '../src/intelligence/datasets.ts';
import { jobAsOf } from '../src/catalogue/runner.ts';
import type { Engine } from '../src/engine/duckdb.ts';
import type { Snapshot } from '../src/intelligence/features.ts';
import { AGGREGATE_PURCHASE_DAYS, registerModelAggregates } from '../src/intelligence/daily-inputs.ts';
import { AS_OF_PARAM, horizonOf, openInputs, writeModels } from '../src/intelligence/job-support.ts';
import { openStoredSnapshot } from '../src/intelligence/snapshot-inputs.ts';
import { tableFromRecords } from '../src/intelligence/lake-io.ts';
import { scoreCustomers, scoreWith, type CustomerScore, type ScoringModels } from '../src/intelligence/models.ts';
import type { ModelRecord } from '../src/intelligence/registry.ts';
import { readStored, trainDecision, TRAIN_PARAMS, writeStored } from '../src/intelligence/trained-models.ts';
import type { Job } from '../src/runtime/job.ts';

const JOB = 'gold-intelligence-scores';

export const scoresJob: Job = {
  name: JOB,
  description: 'CLV and churn risk per customer -> gold/customer360/risk_scores (+ model_registry)',
  usesAsOf: true,
  params: [AS_OF_PARAM, { name: 'horizonDays', description: 'Prediction horizon in days (default 90)', type: { kind: 'int', min: 1, max: 3650 } }, ...TRAIN_PARAMS],
  async run(ctx) {
    // Train on the schedule (trained-models.ts); in between, score with the stored models, reading the features job's
    // snapshot of the as-of date and the purchase days of its aggregate (the churn model's rhythm), not all of Silver.
    const asOf = await jobAsOf(ctx);
    const horizonDays = horizonOf(ctx.params);
    const stored = await readStored<ScoringModels>(ctx.lake, JOB);
    const decision = trainDecision(ctx.params, stored, asOf, horizonDays);
    ctx.report.metrics.training = decision;
    let inputs: { engine: Engine; snapshot: Snapshot } | undefined | null = decision.train ? null : await openStoredSnapshot(ctx);
    // Purchase days: from the aggregate beside a stored snapshot, else from the loaded Silver (base_tx).
    const purchaseDays = inputs ? AGGREGATE_PURCHASE_DAYS : undefined;
    if (inputs) ctx.report.inputs.push(...(await registerModelAggregates(inputs.engine, ctx.lake, asOf)));
    inputs ??= await openInputs(ctx, JOB);
    if (!inputs) return;
    const { engine, snapshot } = inputs;
    try {
      let scores: CustomerScore[];
      let clvRecord: ModelRecord;
      let churnRecord: ModelRecord;
      let trained: ScoringModels | undefined;
      if (decision.train) {
        const s = await scoreCustomers(engine, asOf, horizonDays, snapshot);
        ({ scores, clvRecord, churnRecord } = s);
        trained = { clv: s.clv, churn: s.churn, learnedClv: s.learnedClv };
        ctx.report.metrics.clv = { version: s.clvRecord.MODEL_VERSION, bgnbd: s.clv.bgnbd.params, gammaGamma: s.clv.gammaGamma.params };
        ctx.report.metrics.churn = { version: s.churnRecord.MODEL_VERSION, kind: s.churn.kind, ...s.churn.metrics };
      } else {
        scores = await scoreWith(engine, asOf, horizonDays, snapshot, stored!.models, purchaseDays);
        [clvRecord, churnRecord] = stored!.records as [ModelRecord, ModelRecord];
      }
      await tableFromRecords(engine, 'risk_rows', [
        ['CUSTOMER360_ID', 'VARCHAR'], ['CHURN_RISK', 'DOUBLE'], ['PREDICTED_PURCHASES', 'DOUBLE'], ['PREDICTED_CLV', 'DOUBLE'], ['P_ALIVE', 'DOUBLE'],
      ], scores as unknown as Record<string, unknown>[]);
      await writeDataset(ctx, engine, riskScores, `
        SELECT CUSTOMER360_ID, DATE ${lit(asOf)} AS AS_OF_DATE, CHURN_RISK, PREDICTED_PURCHASES, PREDICTED_CLV, P_ALIVE,
          ${lit(churnRecord.MODEL_VERSION)} AS CHURN_MODEL_VERSION, ${lit(clvRecord.MODEL_VERSION)} AS CLV_MODEL_VERSION
        FROM risk_rows ORDER BY CUSTOMER360_ID`, { asOf });
      // The registry of this as-of date names the models that scored it (trained now or stored).
      await writeModels(ctx, engine, asOf, JOB, [clvRecord, churnRecord]);
      if (trained) await writeStored(ctx, JOB, { trainedAsOf: asOf, horizonDays, models: trained, records: [clvRecord, churnRecord] });
    } finally {
      engine.close();
    }
  },
};
