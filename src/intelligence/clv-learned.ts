// Learned CLV: a ridge regression of log(1 + spend in the next horizon) on features of each customer's history,
// including BG/NBD and Gamma-Gamma outputs fitted on the same snapshot, trained on the churn model's labelled
// snapshots (all before the scoring date). It is served only when it beats BG/NBD x Gamma-Gamma on a validation
// snapshot it was not trained on (the newest); otherwise BG/NBD x Gamma-Gamma is, and the registry says which and why.
import { expectedPurchases, probabilityAlive, type BgNbdParams } from './bgnbd.ts';
import type { LabelledSnapshot } from './churn.ts';
import { rfmOf } from './clv.ts';
import type { FeatureRow } from './features.ts';
import { expectedSpend, fitGammaGamma, type GammaGammaParams } from './gamma-gamma.ts';
import { fitStandardizer, standardize, type Standardizer } from './logistic.ts';
import { spearman, topDecileShare } from './math.ts';

export const LEARNED_CLV_FEATURES = [
  'log_bgnbd_x_gamma_gamma', 'log_expected_purchases', 'log_expected_spend_per_purchase', 'p_alive', 'log_spend_30d',
  'log_spend_90d', 'log_revenue', 'log_spend_rate', 'log_days_since_last_purchase', 'log_frequency', 'log_orders_90d',
  'log_avg_order_value', 'log_tenure_days', 'log_recency_over_gap',
] as const;

/** BG/NBD x Gamma-Gamma expected spend over `days` (one-time buyers: their one order shrunk to the mean, as in clv.ts). */
export function bgnbdGammaGamma(bg: BgNbdParams, gg: GammaGammaParams, r: FeatureRow, days: number): { purchases: number; perPurchase: number } {
  const purchases = expectedPurchases(bg, rfmOf(r), days / 7);
  const perPurchase = r.FREQUENCY > 0 ? expectedSpend(gg, { x: r.FREQUENCY, m: r.MONETARY_REPEAT }) : expectedSpend(gg, { x: 1, m: r.AVG_ORDER_VALUE });
  return { purchases, perPurchase };
}

export function learnedClvVector(r: FeatureRow, bg: BgNbdParams, gg: GammaGammaParams, days: number): number[] {
  const l = Math.log1p;
  const { purchases, perPurchase } = bgnbdGammaGamma(bg, gg, r, days);
  const since = r.DAYS_SINCE_LAST_PURCHASE ?? 0;
  const gap = r.FREQUENCY > 0 ? (r.RECENCY_WEEKS * 7) / r.FREQUENCY : r.T_WEEKS * 7 + 1;
  const age = Math.max(r.T_WEEKS * 7, 1);
  return [
    l(purchases * perPurchase), l(purchases), l(perPurchase), probabilityAlive(bg, rfmOf(r)), l(r.SPEND_30D), l(r.SPEND_90D),
    l(r.REVENUE), l((r.REVENUE / age) * days), l(since), l(r.FREQUENCY), l(r.ORDERS_90D), l(r.AVG_ORDER_VALUE), l(r.TENURE_DAYS),
    l(since / Math.max(gap, 1)),
  ];
}

/** Ridge regression (intercept not penalised) by the normal equations on standardised features. */
export function fitRidge(X: readonly number[][], y: readonly number[], l2 = 1): number[] {
  const d = X[0]!.length + 1;
  const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(d).fill(0);
  for (let i = 0; i < X.length; i++) {
    const x = [1, ...X[i]!];
    for (let j = 0; j < d; j++) {
      b[j]! += x[j]! * y[i]!;
      for (let k = j; k < d; k++) A[j]![k]! += x[j]! * x[k]!;
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) A[j]![k] = A[k]![j]!;
  for (let j = 1; j < d; j++) A[j]![j]! += l2;
  // Gaussian elimination with partial pivoting.
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    if (Math.abs(piv) < 1e-300) throw new Error('ridge regression: singular system');
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / piv;
      if (f !== 0) for (let k = c; k <= d; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[d]! / row[i]!);
}

const dot = (w: readonly number[], x: readonly number[]) => x.reduce((s, v, j) => s + v * w[j + 1]!, w[0]!);

export interface RankMetrics {
  spearman: number;
  topDecileShare: number;
}

export interface LearnedClv {
  /** What is served: the regression, or BG/NBD x Gamma-Gamma when the regression did not beat it on validation. */
  kind: 'regression' | 'bgnbd_gamma_gamma';
  labelHorizonDays: number;
  features: readonly string[];
  standardizer?: Standardizer;
  weights?: number[];
  /** Scales expm1(prediction) so that the training total matches (a log-target regression predicts a median). */
  smearing?: number;
  trainingSnapshots: string[];
  /** The newest snapshot, held out of the fit that decided what is served. */
  validation?: { snapshot: string; customers: number; regression: RankMetrics; bgnbdGammaGamma: RankMetrics; bgnbd: RankMetrics };
  reason: string;
}

interface Prepared {
  x: number[][];
  y: number[];
  spend: number[];
  baseline: number[];
  purchases: number[];
}

function prepare(s: LabelledSnapshot): Prepared {
  let gg: GammaGammaParams;
  try {
    gg = fitGammaGamma(s.rows.map((r) => ({ x: r.FREQUENCY, m: r.MONETARY_REPEAT }))).params;
  } catch {
    const aov = s.rows.reduce((t, r) => t + r.AVG_ORDER_VALUE, 0) / Math.max(s.rows.length, 1);
    gg = { p: 1, q: 2, v: aov };
  }
  const x = s.rows.map((r) => learnedClvVector(r, s.bgnbd, gg, s.labelHorizonDays));
  return {
    x,
    y: s.spend.map((v) => Math.log1p(Math.max(v, 0))),
    spend: s.spend,
    baseline: s.rows.map((r) => {
      const b = bgnbdGammaGamma(s.bgnbd, gg, r, s.labelHorizonDays);
      return b.purchases * b.perPurchase;
    }),
    purchases: s.rows.map((r) => expectedPurchases(s.bgnbd, rfmOf(r), s.labelHorizonDays / 7)),
  };
}

function fit(sets: Prepared[]): { standardizer: Standardizer; weights: number[]; smearing: number } {
  const X = sets.flatMap((s) => s.x);
  const y = sets.flatMap((s) => s.y);
  const standardizer = fitStandardizer(X);
  const Z = X.map((x) => standardize(standardizer, x));
  const weights = fitRidge(Z, y, 1);
  const pred = Z.reduce((t, z) => t + Math.expm1(dot(weights, z)), 0);
  const actual = sets.reduce((t, s) => t + s.spend.reduce((a, v) => a + v, 0), 0);
  return { standardizer, weights, smearing: pred > 0 ? actual / pred : 1 };
}

const metrics = (score: number[], spend: number[]): RankMetrics => ({ spearman: spearman(score, spend), topDecileShare: topDecileShare(score, spend) });

/** Trains on the labelled snapshots (newest first); at least two with 50+ customers each are needed to validate. */
export function trainLearnedClv(snapshots: readonly LabelledSnapshot[]): LearnedClv {
  const usable = snapshots.filter((s) => s.rows.length >= 50);
  const labelHorizonDays = usable[0]?.labelHorizonDays ?? 0;
  const none = (reason: string): LearnedClv => ({ kind: 'bgnbd_gamma_gamma', labelHorizonDays, features: [], trainingSnapshots: [], reason });
  if (usable.length < 2) return none(`${usable.length} labelled snapshot(s) with 50+ purchasers before the scoring date; 2 are needed to fit and validate`);
  const prepared = usable.map(prepare);
  const [val, ...train] = prepared;
  const held = fit(train);
  const valPred = val!.x.map((x) => dot(held.weights, standardize(held.standardizer, x)));
  const validation = {
    snapshot: usable[0]!.date,
    customers: val!.y.length,
    regression: metrics(valPred, val!.spend),
    bgnbdGammaGamma: metrics(val!.baseline, val!.spend),
    bgnbd: metrics(val!.purchases, val!.spend),
  };
  const dates = usable.map((s) => s.date);
  if (!(validation.regression.spearman > validation.bgnbdGammaGamma.spearman && validation.regression.topDecileShare >= validation.bgnbdGammaGamma.topDecileShare)) {
    return { ...none('the regression did not beat BG/NBD x Gamma-Gamma on the validation snapshot (Spearman and top-decile share)'), trainingSnapshots: dates.slice(1), validation };
  }
  // Served: refitted on every snapshot, the validation one included.
  const all = fit(prepared);
  return {
    kind: 'regression', labelHorizonDays, features: LEARNED_CLV_FEATURES, standardizer: all.standardizer, weights: all.weights, smearing: all.smearing,
    trainingSnapshots: dates, validation, reason: 'beat BG/NBD x Gamma-Gamma on the validation snapshot (Spearman and top-decile share)',
  };
}

/** Predicted spend over `horizonDays` (the label horizon's prediction scaled linearly when they differ). */
export function scoreLearnedClv(m: LearnedClv, r: FeatureRow, bg: BgNbdParams, gg: GammaGammaParams, horizonDays: number): number {
  if (m.kind !== 'regression' || !m.weights || !m.standardizer) {
    const b = bgnbdGammaGamma(bg, gg, r, horizonDays);
    return b.purchases * b.perPurchase;
  }
  const z = standardize(m.standardizer, learnedClvVector(r, bg, gg, m.labelHorizonDays));
  return Math.max(0, Math.expm1(dot(m.weights, z)) * (m.smearing ?? 1)) * (horizonDays / m.labelHorizonDays);
}
