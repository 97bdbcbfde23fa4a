// Offline evaluation on held-out time: models are built as of `asOf - horizon` from data up to then only, and
// scored against what customers actually did in (asOf - horizon, asOf]; each model is compared with the simple
// baseline it has to beat.
import { lit, type Engine } from '../engine/duckdb.ts';
import { addDays } from './features.ts';
import { auc, spearman, topDecileShare } from './math.ts';
import { recommend, scoreCustomers } from './models.ts';
import { buildRelevant, recMetrics, type RecMetrics, type Weights } from './recommend.ts';

export interface EvaluationResult {
  asOf: string;
  horizonDays: number;
  /** Models are trained on data up to here; the holdout is (cutoff, asOf]. */
  cutoff: string;
  clv: {
    /** bgnbd or mbgnbd, whichever had the higher likelihood. */
    model: string;
    customers: number;
    spearman: number;
    topDecileShare: number;
    baselinePastSpendSpearman: number;
    baselinePastSpendTopDecileShare: number;
    predictedPurchases: number;
    actualPurchases: number;
  };
  churn: {
    customers: number;
    churnRate: number;
    auc: number;
    baselineRecencyAuc: number;
    pAliveAuc: number;
    brier: number;
    meanPredicted: number;
    model: string;
  };
  recommendations?: {
    k: number;
    weights: Weights;
    tunedOn?: { asOf: string; until: string };
    hybrid: RecMetrics;
    popularity: RecMetrics;
    repeat_purchase: RecMetrics;
  };
}

export async function evaluate(engine: Engine, asOf: string, horizonDays: number, options: { recommendations?: boolean } = {}): Promise<EvaluationResult> {
  const cutoff = addDays(asOf, -horizonDays);
  const s = await scoreCustomers(engine, cutoff, horizonDays);
  const actual = new Map(
    (await engine.all<{ id: string; spend: number; days: string }>(
      `SELECT CUSTOMER360_ID AS id, sum(AMOUNT) AS spend, count(DISTINCT TX_DATE) AS days FROM base_tx
       WHERE TX_DATE > DATE ${lit(cutoff)} AND TX_DATE <= DATE ${lit(asOf)} GROUP BY 1`,
    )).map((r) => [r.id, { spend: Number(r.spend), days: Number(r.days) }]),
  );
  const byId = new Map(s.scores.map((x) => [x.CUSTOMER360_ID, x]));
  const buyers = s.snapshot.rows.filter((r) => r.HAS_PURCHASED);
  const spend = buyers.map((r) => actual.get(r.CUSTOMER360_ID)?.spend ?? 0);
  const clvPred = buyers.map((r) => byId.get(r.CUSTOMER360_ID)!.PREDICTED_CLV);
  const past = buyers.map((r) => r.REVENUE);
  const labels = buyers.map((r) => (actual.has(r.CUSTOMER360_ID) ? 0 : 1) as 0 | 1);
  const risk = buyers.map((r) => byId.get(r.CUSTOMER360_ID)!.CHURN_RISK);
  const result: EvaluationResult = {
    asOf,
    horizonDays,
    cutoff,
    clv: {
      model: s.clv.bgnbd.params.variant ?? 'bgnbd',
      customers: buyers.length,
      spearman: spearman(clvPred, spend),
      topDecileShare: topDecileShare(clvPred, spend),
      baselinePastSpendSpearman: spearman(past, spend),
      baselinePastSpendTopDecileShare: topDecileShare(past, spend),
      predictedPurchases: buyers.reduce((t, r) => t + byId.get(r.CUSTOMER360_ID)!.PREDICTED_PURCHASES, 0),
      actualPurchases: buyers.reduce((t, r) => t + (actual.get(r.CUSTOMER360_ID)?.days ?? 0), 0),
    },
    churn: {
      customers: buyers.length,
      churnRate: labels.filter((l) => l === 1).length / Math.max(labels.length, 1),
      auc: auc(risk, labels),
      baselineRecencyAuc: auc(buyers.map((r) => r.DAYS_SINCE_LAST_PURCHASE ?? 0), labels),
      pAliveAuc: auc(buyers.map((r) => 1 - (byId.get(r.CUSTOMER360_ID)!.P_ALIVE ?? 1)), labels),
      brier: risk.reduce((t, p, i) => t + (p - labels[i]!) ** 2, 0) / Math.max(risk.length, 1),
      meanPredicted: risk.reduce((t, p) => t + p, 0) / Math.max(risk.length, 1),
      model: s.churn.kind,
    },
  };
  const products = Number(await engine.scalar(`SELECT count(DISTINCT PRODUCT_ID) FROM base_lines`));
  if ((options.recommendations ?? true) && products > 1) {
    const start = await engine.scalar<string>(`SELECT CAST(min(TX_DATE) AS VARCHAR) FROM base_tx`);
    const r = await recommend(engine, s.snapshot, horizonDays, 10, start);
    await buildRelevant(engine, r.prefix, cutoff, asOf);
    result.recommendations = {
      k: 10,
      weights: r.tuning.weights,
      tunedOn: r.tuning.split,
      hybrid: await recMetrics(engine, r.prefix, r.tables.hybrid, 10),
      popularity: await recMetrics(engine, r.prefix, r.tables.popularity, 10),
      repeat_purchase: await recMetrics(engine, r.prefix, r.tables.repeat_purchase, 10),
    };
  }
  return result;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** The evaluation as a plain-text table. */
export function formatEvaluation(e: EvaluationResult, title = 'c360 evaluate'): string[] {
  const lines = [
    `${title}: train up to ${e.cutoff}, holdout (${e.cutoff}, ${e.asOf}] = ${e.horizonDays} days`,
    '',
    'model            metric                       model     baseline  (baseline)',
    `CLV              Spearman vs holdout spend    ${f(e.clv.spearman)}    ${f(e.clv.baselinePastSpendSpearman)}    past spend`,
    `CLV              top-decile spend share       ${f(e.clv.topDecileShare)}    ${f(e.clv.baselinePastSpendTopDecileShare)}    past spend`,
    `CLV              purchases predicted/actual   ${e.clv.predictedPurchases.toFixed(1)} / ${e.clv.actualPurchases}   (${e.clv.customers} customers, ${e.clv.model} + Gamma-Gamma)`,
    `churn            AUC                          ${f(e.churn.auc)}    ${f(e.churn.baselineRecencyAuc)}    days since last purchase`,
    `churn            AUC of 1 - P(alive)          ${f(e.churn.pAliveAuc)}    (P(alive) alone, for reference)`,
    `churn            Brier / mean risk / rate     ${f(e.churn.brier)} / ${f(e.churn.meanPredicted)} / ${f(e.churn.churnRate)}  (${e.churn.model})`,
  ];
  const r = e.recommendations;
  if (r) {
    lines.push('', `recommendations @${r.k} (${r.hybrid.users} customers with holdout purchases; weights ${JSON.stringify(r.weights)}${r.tunedOn ? ` tuned on (${r.tunedOn.asOf}, ${r.tunedOn.until}]` : ' (prior, not tuned)'})`);
    lines.push('algorithm          precision  recall    NDCG      hit rate');
    for (const [name, m] of [['hybrid', r.hybrid], ['popularity', r.popularity], ['repeat_purchase', r.repeat_purchase]] as const) {
      lines.push(`${name.padEnd(19)}${f(m.precision)}     ${f(m.recall)}    ${f(m.ndcg)}    ${f(m.hitRate)}`);
    }
  }
  return lines;
}
