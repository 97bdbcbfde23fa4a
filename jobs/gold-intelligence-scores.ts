// Gold intelligence step 2: CLV (BG/NBD + Gamma-Gamma) and churn (logistic + Platt) -> risk_scores, model registry.
import { lit } from '../src/engine/duckdb.ts';
import { openInputs } from '../src/intelligence/job-support.ts';
import { tableFromRecords, writeGold } from '../src/intelligence/lake-io.ts';
import { scoreCustomers } from '../src/intelligence/models.ts';
import { writeRegistry } from '../src/intelligence/registry.ts';
import type { Job } from '../src/runtime/job.ts';

export const scoresJob: Job = {
  name: 'gold-intelligence-scores',
  description: 'CLV and churn risk per customer -> gold/customer360/risk_scores (+ model_registry)',
  params: [{ name: 'horizonDays', description: 'Prediction horizon in days (default 90)' }],
  async run(ctx) {
    const inputs = await openInputs(ctx);
    if (!inputs) return;
    const { engine, asOf, horizonDays, snapshot } = inputs;
    try {
      const s = await scoreCustomers(engine, asOf, horizonDays, snapshot);
      await tableFromRecords(engine, 'risk_rows', [
        ['CUSTOMER360_ID', 'VARCHAR'], ['CHURN_RISK', 'DOUBLE'], ['PREDICTED_PURCHASES', 'DOUBLE'], ['PREDICTED_CLV', 'DOUBLE'], ['P_ALIVE', 'DOUBLE'],
      ], s.scores as unknown as Record<string, unknown>[]);
      const out = await writeGold(engine, ctx.lake, 'risk_scores', asOf, `
        SELECT CUSTOMER360_ID, DATE ${lit(asOf)} AS AS_OF_DATE, CHURN_RISK, PREDICTED_PURCHASES, PREDICTED_CLV, P_ALIVE,
          ${lit(s.churnRecord.MODEL_VERSION)} AS CHURN_MODEL_VERSION, ${lit(s.clvRecord.MODEL_VERSION)} AS CLV_MODEL_VERSION
        FROM risk_rows ORDER BY CUSTOMER360_ID`);
      const reg = await writeRegistry(engine, ctx.lake, asOf, 'clv_churn', [s.clvRecord, s.churnRecord]);
      ctx.report.outputs.push(out.path, reg.path);
      ctx.report.rowCounts.risk_scores = out.rows;
      ctx.report.metrics.clv = { version: s.clvRecord.MODEL_VERSION, bgnbd: s.clv.bgnbd.params, gammaGamma: s.clv.gammaGamma.params };
      ctx.report.metrics.churn = { version: s.churnRecord.MODEL_VERSION, kind: s.churn.kind, ...s.churn.metrics };
    } finally {
      engine.close();
    }
  },
};
