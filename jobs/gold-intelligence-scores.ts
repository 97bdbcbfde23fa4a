// Gold intelligence step 2: CLV (BG/NBD + Gamma-Gamma) and churn (logistic + Platt) -> risk_scores, model registry.
import { writeDataset } from '../src/catalogue/runner.ts';
import { lit } from '../src/engine/duckdb.ts';
import { riskScores } from '../src/intelligence/datasets.ts';
import { AS_OF_PARAM, openInputs, writeModels } from '../src/intelligence/job-support.ts';
import { tableFromRecords } from '../src/intelligence/lake-io.ts';
import { scoreCustomers } from '../src/intelligence/models.ts';
import type { Job } from '../src/runtime/job.ts';

export const scoresJob: Job = {
  name: 'gold-intelligence-scores',
  description: 'CLV and churn risk per customer -> gold/customer360/risk_scores (+ model_registry)',
  usesAsOf: true,
  params: [AS_OF_PARAM, { name: 'horizonDays', description: 'Prediction horizon in days (default 90)', type: { kind: 'int', min: 1, max: 3650 } }],
  async run(ctx) {
    const inputs = await openInputs(ctx, 'gold-intelligence-scores');
    if (!inputs) return;
    const { engine, asOf, horizonDays, snapshot } = inputs;
    try {
      const s = await scoreCustomers(engine, asOf, horizonDays, snapshot);
      await tableFromRecords(engine, 'risk_rows', [
        ['CUSTOMER360_ID', 'VARCHAR'], ['CHURN_RISK', 'DOUBLE'], ['PREDICTED_PURCHASES', 'DOUBLE'], ['PREDICTED_CLV', 'DOUBLE'], ['P_ALIVE', 'DOUBLE'],
      ], s.scores as unknown as Record<string, unknown>[]);
      await writeDataset(ctx, engine, riskScores, `
        SELECT CUSTOMER360_ID, DATE ${lit(asOf)} AS AS_OF_DATE, CHURN_RISK, PREDICTED_PURCHASES, PREDICTED_CLV, P_ALIVE,
          ${lit(s.churnRecord.MODEL_VERSION)} AS CHURN_MODEL_VERSION, ${lit(s.clvRecord.MODEL_VERSION)} AS CLV_MODEL_VERSION
        FROM risk_rows ORDER BY CUSTOMER360_ID`, { asOf });
      await writeModels(ctx, engine, asOf, 'gold-intelligence-scores', [s.clvRecord, s.churnRecord]);
      ctx.report.metrics.clv = { version: s.clvRecord.MODEL_VERSION, bgnbd: s.clv.bgnbd.params, gammaGamma: s.clv.gammaGamma.params };
      ctx.report.metrics.churn = { version: s.churnRecord.MODEL_VERSION, kind: s.churn.kind, ...s.churn.metrics };
    } finally {
      engine.close();
    }
  },
};
