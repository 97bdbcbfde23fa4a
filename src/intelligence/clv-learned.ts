// Learned CLV: a ridge regression of log(1 + spend in the next horizon) on features of each customer's history and
// rhythm, including BG/NBD and Gamma-Gamma outputs fitted on the same snapshot, trained on the churn model's labelled
// snapshots (all before the scoring date). What is served is chosen on a validation snapshot the fits did not see (the
// newest): the evaluation's baselines (BG/NBD x Gamma-Gamma, BG/NBD alone, past spend), BG/NBD with the spend model's
// say shrunk (expected purchases x spend per purchase^a), the regression, or the regression blended with log BG/NBD x
// Gamma-Gamma or log BG/NBD alone. Eligible: the baselines, and the candidates that lead every baseline on both
// validation metrics (Spearman and top-decile share). Served: the simplest eligible candidate whose validation Spearman
// is within one standard error (paired bootstrap over the validation customers) of the best eligible one (Breiman's
// one-standard-error rule): a baseline unless something beats it clearly, then the blend nearest a baseline. The
// registry records every candidate's figures.
import { expectedPurchases, probabilityAlive, type BgNbdParams } from './bgnbd.ts';
import type { LabelledSnapshot } from './churn.ts';
import { rfmOf } from './clv.ts';
import type { FeatureRow, Rhythm } from './features.ts';
import { expectedSpend, fitGammaGamma, type GammaGammaParams } from './gamma-gamma.ts';
import { fitStandardizer, standardize, type Standardizer } from './logistic.ts';
import { resampleRanks, seededRandom, sortedOrder, spearman, topDecileShare, weightedPearson } from './math.ts';

export const LEARNED_CLV_FEATURES = [
  'log_bgnbd_x_gamma_gamma', 'log_expected_purchases', 'log_expected_spend_per_purchase', 'p_alive', 'log_spend_30d',
  'log_spend_90d', 'log_revenue', 'log_spend_rate', 'log_days_since_last_purchase', 'log_frequency', 'log_orders_90d',
  'log_avg_order_value', 'log_tenure_days', 'log_recency_over_gap',
  // the customer's own rhythm (features.ts rhythmSql): purchase days lately and before, gaps, spend per purchase day
  'log_purchase_days_90d', 'log_purchase_days_prev_90d', 'purchase_days_trend', 'log_gap_mean', 'log_gap_cv', 'overdue_z',
  'log_spend_per_day_90d', 'log_monetary_repeat', 'log_recent_rhythm_spend', 'log_gap_rhythm_spend',
] as const;

const NO_RHYTHM: Rhythm = { N_GAPS: 0, GAP_MEAN: 0, GAP_SD: 0, DAYS_90: 0, DAYS_PREV_90: 0 };

/** BG/NBD x Gamma-Gamma expected spend over `days` (one-time buyers: their one order shrunk to the mean, as in clv.ts). */
export function bgnbdGammaGamma(bg: BgNbdParams, gg: GammaGammaParams, r: FeatureRow, days: number): { purchases: number; perPurchase: number } {
  const purchases = expectedPurchases(bg, rfmOf(r), days / 7);
  const perPurchase = r.FREQUENCY > 0 ? expectedSpend(gg, { x: r.FREQUENCY, m: r.MONETARY_REPEAT }) : expectedSpend(gg, { x: 1, m: r.AVG_ORDER_VALUE });
  return { purchases, perPurchase };
}

export function learnedClvVector(r: FeatureRow, bg: BgNbdParams, gg: GammaGammaParams, days: number, rhythm: Rhythm = NO_RHYTHM): number[] {
  const l = Math.log1p;
  const h = rhythm;
  const { purchases, perPurchase } = bgnbdGammaGamma(bg, gg, r, days);
  const since = r.DAYS_SINCE_LAST_PURCHASE ?? 0;
  const gap = r.FREQUENCY > 0 ? (r.RECENCY_WEEKS * 7) / r.FREQUENCY : r.T_WEEKS * 7 + 1;
  const age = Math.max(r.T_WEEKS * 7, 1);
  const sd = h.N_GAPS > 1 ? Math.max(h.GAP_SD, 1) : Math.max(h.GAP_MEAN, 1);
  const perDay90 = h.DAYS_90 > 0 ? r.SPEND_90D / h.DAYS_90 : 0;
  const perDay = r.REVENUE / Math.max(r.PURCHASE_DAYS, 1);
  return [
    l(purchases * perPurchase), l(purchases), l(perPurchase), probabilityAlive(bg, rfmOf(r)), l(r.SPEND_30D), l(r.SPEND_90D),
    l(r.REVENUE), l((r.REVENUE / age) * days), l(since), l(r.FREQUENCY), l(r.ORDERS_90D), l(r.AVG_ORDER_VALUE), l(r.TENURE_DAYS),
    l(since / Math.max(gap, 1)),
    l(h.DAYS_90), l(h.DAYS_PREV_90), l(h.DAYS_90) - l(h.DAYS_PREV_90), l(h.GAP_MEAN), h.N_GAPS > 1 ? l(h.GAP_SD / Math.max(h.GAP_MEAN, 1)) : 0,
    h.N_GAPS > 0 ? Math.max(-5, Math.min(5, (since - h.GAP_MEAN) / sd)) : 0, l(perDay90), l(r.MONETARY_REPEAT),
    // spend over the horizon at the last 90 days' pace, and at the customer's own mean gap
    l((h.DAYS_90 / 90) * days * perDay90), h.N_GAPS > 0 ? l((days / Math.max(h.GAP_MEAN, 1)) * perDay) : 0,
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

/** Regression shares (in log space, against log BG/NBD x Gamma-Gamma) and spend-model exponents tried on validation. */
export const BLEND_WEIGHTS = [1, 0.75, 0.5, 0.25] as const;
export const MONETARY_EXPONENTS = [0, 0.25, 0.5, 0.75] as const;

export interface LearnedClv {
  /**
   * What is served: the regression (alone or blended with BG/NBD x Gamma-Gamma), BG/NBD x spend per purchase^a (a = 0:
   * BG/NBD alone), past spend, or BG/NBD x Gamma-Gamma itself.
   */
  kind: 'regression' | 'bgnbd_monetary' | 'past_spend' | 'bgnbd_gamma_gamma';
  /** The served candidate's name (as in validation.candidates). */
  candidate: string;
  labelHorizonDays: number;
  features: readonly string[];
  standardizer?: Standardizer;
  weights?: number[];
  /** The regression's share in log space; the rest is log(1 + BG/NBD x Gamma-Gamma), or log BG/NBD purchases (blendWith). */
  blendWeight?: number;
  /** What the regression is blended with (default: BG/NBD x Gamma-Gamma). */
  blendWith?: 'bgnbd_gamma_gamma' | 'bgnbd';
  /** bgnbd_monetary: the exponent of Gamma-Gamma's spend per purchase (0 = expected purchases alone). */
  monetaryExponent?: number;
  /** Scales the prediction so that the training total matches (a log-target regression predicts a median). */
  smearing?: number;
  /**
   * Where the total comes from: the training snapshots' spend (smearing), or BG/NBD x Gamma-Gamma's total on the
   * scored customers (the candidate then only ranks and divides it); whichever was nearer on the validation snapshot.
   */
  total?: 'training_spend' | 'bgnbd_gamma_gamma';
  trainingSnapshots: string[];
  /** The newest snapshot, held out of the fit that decided what is served. */
  validation?: {
    snapshot: string; customers: number; regression: RankMetrics; bgnbdGammaGamma: RankMetrics; bgnbd: RankMetrics;
    /** Every candidate on the validation snapshot, in the order tried. */
    candidates: Record<string, RankMetrics>;
    /** Paired bootstrap standard error of (best - candidate) Spearman, per candidate; best = the highest Spearman among the eligible. */
    standardErrors?: Record<string, number>;
    best?: string;
    /**
     * Candidates (not baselines) left out of the choice: validation Spearman not above the strongest baseline's by more
     * than one paired standard error, or top-decile share below the strongest baseline's.
     */
    ineligible?: string[];
  };
  reason: string;
  /** Set when the validation snapshot was too young to stand for the scoring date (BG/NBD x Gamma-Gamma served). */
  ageGuard?: boolean;
}

interface Prepared {
  x: number[][];
  y: number[];
  spend: number[];
  baseline: number[];
  purchases: number[];
  past: number[];
}

function prepare(s: LabelledSnapshot): Prepared {
  let gg: GammaGammaParams;
  try {
    gg = fitGammaGamma(s.rows.map((r) => ({ x: r.FREQUENCY, m: r.MONETARY_REPEAT }))).params;
  } catch {
    const aov = s.rows.reduce((t, r) => t + r.AVG_ORDER_VALUE, 0) / Math.max(s.rows.length, 1);
    gg = { p: 1, q: 2, v: aov };
  }
  const x = s.rows.map((r, i) => learnedClvVector(r, s.bgnbd, gg, s.labelHorizonDays, s.rhythm?.[i]));
  const b = s.rows.map((r) => bgnbdGammaGamma(s.bgnbd, gg, r, s.labelHorizonDays));
  return {
    x,
    y: s.spend.map((v) => Math.log1p(Math.max(v, 0))),
    spend: s.spend,
    baseline: b.map((v) => v.purchases * v.perPurchase),
    purchases: b.map((v) => v.purchases),
    past: s.rows.map((r) => r.REVENUE),
  };
}

interface Regression { standardizer: Standardizer; weights: number[] }

function fit(sets: Prepared[]): Regression {
  const X = sets.flatMap((s) => s.x);
  const standardizer = fitStandardizer(X);
  return { standardizer, weights: fitRidge(X.map((x) => standardize(standardizer, x)), sets.flatMap((s) => s.y), 1) };
}

/** One candidate's log-space score per row of a prepared set (monotone in its spend prediction). */
interface Candidate { name: string; kind: LearnedClv['kind']; blendWeight?: number; blendWith?: LearnedClv['blendWith']; monetaryExponent?: number; complexity: number }

/** The part of a regression blend that is not the regression, in log space. */
const anchor = (blendWith: LearnedClv['blendWith'], purchases: number, baseline: number) =>
  blendWith === 'bgnbd' ? Math.log(Math.max(purchases, 1e-12)) : Math.log1p(baseline);

function logScores(c: Candidate, s: Prepared, reg: Regression | undefined): number[] {
  if (c.kind === 'regression') {
    const w = c.blendWeight!;
    return s.x.map((x, i) => w * dot(reg!.weights, standardize(reg!.standardizer, x)) + (w < 1 ? (1 - w) * anchor(c.blendWith, s.purchases[i]!, s.baseline[i]!) : 0));
  }
  if (c.kind === 'past_spend') return s.past.map((v) => Math.log(Math.max(v, 1e-12)));
  const a = c.kind === 'bgnbd_monetary' ? c.monetaryExponent! : 1;
  // log(purchases x perPurchase^a), with perPurchase = baseline / purchases
  return s.purchases.map((p, i) => Math.log(Math.max(p, 1e-12)) + a * Math.log(Math.max(s.baseline[i]!, 1e-12) / Math.max(p, 1e-12)));
}

/** Spend predicted by a log-space score: expm1 for the regression family, exp for the multiplicative ones. */
// A blend with log BG/NBD purchases is a log of a positive quantity, not log(1 + spend): exp keeps every customer's
// place (expm1 clipped at 0 tied everyone whose expected purchases are below one, most of CDNOW and the sample, at 0).
const spendOf = (c: Pick<Candidate, 'kind' | 'blendWith'>, z: number) => (c.kind === 'regression' && c.blendWith !== 'bgnbd' ? Math.max(0, Math.expm1(z)) : Math.exp(z));

/**
 * The evaluation's baselines (BG/NBD x Gamma-Gamma, BG/NBD alone, past spend) come first. `complexity` orders the
 * one-standard-error rule: baselines 0, the spend-exponent variants 0.5 (no fit, one choice), a regression blend 1 + its
 * regression weight (the nearer a baseline, the simpler).
 */
const CANDIDATES: Candidate[] = [
  { name: 'bgnbd_gamma_gamma', kind: 'bgnbd_gamma_gamma', complexity: 0 },
  { name: 'bgnbd_x_spend^0', kind: 'bgnbd_monetary', monetaryExponent: 0, complexity: 0 },
  { name: 'past_spend', kind: 'past_spend', complexity: 0 },
  ...MONETARY_EXPONENTS.filter((a) => a > 0).map((a) => ({ name: `bgnbd_x_spend^${a}`, kind: 'bgnbd_monetary' as const, monetaryExponent: a, complexity: 0.5 })),
  ...BLEND_WEIGHTS.map((w) => ({ name: w === 1 ? 'regression' : `regression_blend_${w}`, kind: 'regression' as const, blendWeight: w, complexity: 1 + w })),
  ...BLEND_WEIGHTS.filter((w) => w < 1).map((w) => ({ name: `regression_bgnbd_blend_${w}`, kind: 'regression' as const, blendWeight: w, blendWith: 'bgnbd' as const, complexity: 1 + w })),
];

/** Bootstrap resamples of the validation customers for the one-standard-error rule. */
export const SELECTION_BOOTSTRAP = 100;

/**
 * Paired bootstrap standard error of Spearman(best) - Spearman(c) for every candidate, over resamples of the validation
 * customers (seeded: the same data gives the same choice).
 */
function pairedStandardErrors(scores: Record<string, number[]>, spend: readonly number[], best: string, samples = SELECTION_BOOTSTRAP): Record<string, number> {
  const n = spend.length;
  const rnd = seededRandom(18);
  const names = Object.keys(scores);
  const diffs: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const orders = Object.fromEntries(names.map((k) => [k, sortedOrder(scores[k]!)]));
  const spendOrder = sortedOrder(spend);
  const counts = new Int32Array(n);
  const y = new Float64Array(n);
  const x = new Float64Array(n);
  for (let b = 0; b < samples; b++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[Math.floor(rnd() * n)]!++;
    resampleRanks(spend, spendOrder, counts, y);
    const rho = (k: string) => {
      resampleRanks(scores[k]!, orders[k]!, counts, x);
      return weightedPearson(x, y, counts);
    };
    const top = rho(best);
    for (const k of names) if (k !== best) diffs[k]!.push(top - rho(k));
  }
  const sd = (xs: number[]) => {
    const ok = xs.filter(Number.isFinite);
    if (ok.length < 2) return 0;
    const m = ok.reduce((a, v) => a + v, 0) / ok.length;
    return Math.sqrt(ok.reduce((a, v) => a + (v - m) ** 2, 0) / (ok.length - 1));
  };
  return Object.fromEntries(Object.keys(scores).map((k) => [k, k === best ? 0 : sd(diffs[k]!)]));
}

const metrics = (score: number[], spend: number[]): RankMetrics => ({ spearman: spearman(score, spend), topDecileShare: topDecileShare(score, spend) });

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? (v[(v.length - 1) >> 1]! + v[v.length >> 1]!) / 2 : 0;
};

/**
 * Trains on the labelled snapshots (newest first); at least two with 50+ customers each are needed to validate.
 * `scoringAgeWeeks` (the median purchaser's age in weeks at the scoring date) guards the validation's relevance: when
 * the validation snapshot's purchasers are less than half as old (a young cohort: CDNOW), what wins there says little
 * about the scoring date, and BG/NBD x Gamma-Gamma is served.
 */
export function trainLearnedClv(snapshots: readonly LabelledSnapshot[], scoringAgeWeeks?: number): LearnedClv {
  const usable = snapshots.filter((s) => s.rows.length >= 50);
  const labelHorizonDays = usable[0]?.labelHorizonDays ?? 0;
  const none = (reason: string): LearnedClv => ({ kind: 'bgnbd_gamma_gamma', candidate: 'bgnbd_gamma_gamma', labelHorizonDays, features: [], trainingSnapshots: [], reason });
  if (usable.length < 2) return none(`${usable.length} labelled snapshot(s) with 50+ purchasers before the scoring date; 2 are needed to fit and validate`);
  const prepared = usable.map(prepare);
  const [val, ...train] = prepared;
  const held = fit(train);
  const valScores = Object.fromEntries(CANDIDATES.map((c) => [c.name, logScores(c, val!, held)]));
  const candidates = Object.fromEntries(CANDIDATES.map((c) => [c.name, metrics(valScores[c.name]!, val!.spend)]));
  // Eligible: a baseline, or a candidate that beats the strongest baseline's validation Spearman by more than one
  // paired standard error without falling below the strongest baseline's top-decile share (issue 18 compares the
  // served CLV with every baseline on both). The baselines may lead on different metrics; then only a candidate that
  // leads both is eligible, and with none, the baseline with the best Spearman is served (it ties itself).
  const baselines = CANDIDATES.filter((c) => c.complexity === 0);
  const strongest = baselines.reduce((a, c) => (candidates[c.name]!.spearman > candidates[a.name]!.spearman ? c : a));
  const topShare = Math.max(...baselines.map((c) => candidates[c.name]!.topDecileShare));
  const vsBaseline = pairedStandardErrors(valScores, val!.spend, strongest.name);
  const ineligible = CANDIDATES.filter((c) => c.complexity > 0 && !(candidates[c.name]!.spearman - candidates[strongest.name]!.spearman > vsBaseline[c.name]! && candidates[c.name]!.topDecileShare >= topShare));
  const eligible = CANDIDATES.filter((c) => !ineligible.includes(c));
  const best = eligible.reduce((a, c) => (candidates[c.name]!.spearman > candidates[a.name]!.spearman ? c : a));
  const standardErrors = pairedStandardErrors(valScores, val!.spend, best.name);
  const validation = {
    snapshot: usable[0]!.date,
    customers: val!.y.length,
    regression: candidates.regression!,
    bgnbdGammaGamma: candidates.bgnbd_gamma_gamma!,
    bgnbd: candidates['bgnbd_x_spend^0']!,
    candidates,
    standardErrors,
    best: best.name,
    ineligible: ineligible.map((c) => c.name),
  };
  const dates = usable.map((s) => s.date);
  const valAge = median(usable[0]!.rows.map((r) => r.T_WEEKS));
  if (scoringAgeWeeks !== undefined && valAge < scoringAgeWeeks / 2) {
    return {
      ...none(`the validation snapshot's purchasers (median age ${valAge.toFixed(1)} weeks) are less than half as old as the scored ones (${scoringAgeWeeks.toFixed(1)} weeks); a validation that stands for the scoring date is needed`),
      trainingSnapshots: dates.slice(1), validation, ageGuard: true,
    };
  }
  // Spearman is the evaluation's primary metric. A validation lift within noise often does not survive the next
  // horizon (the sample: +0.023 on validation, -0.01 on the holdout), so the simplest candidate within one standard
  // error of the best is served; among equally simple ones, the higher Spearman.
  const within = eligible.filter((c) => candidates[c.name]!.spearman >= candidates[best.name]!.spearman - standardErrors[c.name]!);
  const chosen = within.reduce((a, c) => (c.complexity < a.complexity || (c.complexity === a.complexity && candidates[c.name]!.spearman > candidates[a.name]!.spearman) ? c : a));
  const rule = `the simplest candidate within one standard error of the best validation Spearman (${best.name} ${candidates[best.name]!.spearman.toFixed(4)})` +
    ` among the baselines and the candidates above the strongest baseline on both validation metrics (${ineligible.length ? `${eligible.length - baselines.length} of ${CANDIDATES.length - baselines.length}` : 'all'})`;
  if (chosen.kind === 'bgnbd_gamma_gamma') {
    return { ...none(`BG/NBD x Gamma-Gamma: ${rule}`), trainingSnapshots: dates.slice(1), validation };
  }
  // The total: training spend scaled onto the validation snapshot, or BG/NBD x Gamma-Gamma's there; the nearer one.
  const sum = (xs: number[]) => xs.reduce((a, v) => a + v, 0);
  const raw = (set: Prepared, reg: Regression | undefined) => logScores(chosen, set, reg).map((z) => spendOf(chosen, z));
  const trainScale = sum(train.map((t) => sum(t.spend))) / Math.max(sum(train.map((t) => sum(raw(t, held)))), 1e-12);
  const valActual = sum(val!.spend);
  const total = Math.abs(trainScale * sum(raw(val!, held)) - valActual) <= Math.abs(sum(val!.baseline) - valActual) ? 'training_spend' : 'bgnbd_gamma_gamma';
  // Served: refitted on every snapshot, the validation one included; the total scaled to the training spend.
  const all = chosen.kind === 'regression' ? fit(prepared) : undefined;
  const predicted = sum(prepared.map((t) => sum(raw(t, all))));
  const actual = sum(prepared.map((t) => sum(t.spend)));
  return {
    kind: chosen.kind, candidate: chosen.name, labelHorizonDays, features: chosen.kind === 'regression' ? LEARNED_CLV_FEATURES : [],
    ...(all ? { standardizer: all.standardizer, weights: all.weights, blendWeight: chosen.blendWeight, ...(chosen.blendWith ? { blendWith: chosen.blendWith } : {}) } : { monetaryExponent: chosen.monetaryExponent }),
    smearing: predicted > 0 ? actual / predicted : 1, total,
    trainingSnapshots: dates, validation, reason: `${chosen.name}: ${rule}`,
  };
}

/**
 * Predicted spend over `horizonDays` for the purchasers of one snapshot (`rhythm` by customer id), with the total
 * from the training spend or from BG/NBD x Gamma-Gamma on these customers, as chosen in training.
 */
export function scoreLearnedClvAll(m: LearnedClv, rows: readonly FeatureRow[], bg: BgNbdParams, gg: GammaGammaParams, horizonDays: number, rhythm?: Map<string, Rhythm>): number[] {
  const out = rows.map((r) => scoreLearnedClv(m, r, bg, gg, horizonDays, rhythm?.get(r.CUSTOMER360_ID)));
  if (m.kind === 'bgnbd_gamma_gamma' || m.total !== 'bgnbd_gamma_gamma') return out;
  const target = rows.reduce((t, r) => { const b = bgnbdGammaGamma(bg, gg, r, horizonDays); return t + b.purchases * b.perPurchase; }, 0);
  const got = out.reduce((t, v) => t + v, 0);
  return got > 0 ? out.map((v) => (v * target) / got) : out;
}

/** Predicted spend over `horizonDays` (the label horizon's prediction scaled linearly when they differ). */
export function scoreLearnedClv(m: LearnedClv, r: FeatureRow, bg: BgNbdParams, gg: GammaGammaParams, horizonDays: number, rhythm?: Rhythm): number {
  if (m.kind === 'past_spend') return r.REVENUE * (m.smearing ?? 1) * (horizonDays / m.labelHorizonDays);
  if (m.kind === 'bgnbd_monetary') {
    const b = bgnbdGammaGamma(bg, gg, r, horizonDays);
    return b.purchases * Math.pow(b.perPurchase, m.monetaryExponent ?? 1) * (m.smearing ?? 1);
  }
  if (m.kind !== 'regression' || !m.weights || !m.standardizer) {
    const b = bgnbdGammaGamma(bg, gg, r, horizonDays);
    return b.purchases * b.perPurchase;
  }
  const b = bgnbdGammaGamma(bg, gg, r, m.labelHorizonDays);
  const w = m.blendWeight ?? 1;
  const z = w * dot(m.weights, standardize(m.standardizer, learnedClvVector(r, bg, gg, m.labelHorizonDays, rhythm))) + (w < 1 ? (1 - w) * anchor(m.blendWith, b.purchases, b.purchases * b.perPurchase) : 0);
  return spendOf(m, z) * (m.smearing ?? 1) * (horizonDays / m.labelHorizonDays);
}
