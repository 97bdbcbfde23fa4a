// Churn for non-contractual retail: label = no purchase within the horizon after a snapshot. Trained on past
// snapshots whose label window ends on or before the scoring date (so labels never look past it), logistic
// regression on standardised features (including BG/NBD outputs fitted per snapshot), Platt-calibrated on the most
// recent training snapshot. Never P(alive) alone: it is 1 for every customer without a repeat purchase.
import { lit, type Engine } from '../engine/duckdb.ts';
import { expectedPurchases, probabilityAlive, probabilityNoPurchase, type BgNbdParams } from './bgnbd.ts';
import { fitFrequency, rfmOf, type ClvModel } from './clv.ts';
import { featureSnapshotSql, RHYTHM_COLUMNS, rhythmSql, toFeatureRow, toRhythm, type FeatureRow, type Rhythm } from './features.ts';
import { addDays } from '../runtime/days.ts';
import { applyPlatt, fitLogistic, fitPlatt, fitStandardizer, logit, standardize, type LogisticModel, type PlattScaling, type Standardizer } from './logistic.ts';
import { auc } from './math.ts';

export const CHURN_FEATURES = [
  'log_days_since_last_purchase', 'log_frequency', 'log_tenure_days', 'log_avg_order_value', 'log_orders_30d',
  'log_orders_90d', 'log_spend_90d', 'log_sessions_30d', 'log_events_30d', 'log_cart_adds_30d', 'log_returns_90d',
  'log_recency_over_gap', 'p_alive', 'log_expected_purchases', 'bgnbd_p_no_purchase',
] as const;

/** The customer's own rhythm: how regular the gaps between purchase days are, how overdue the next one is, the trend. */
export const RHYTHM_FEATURES = ['log_gap_cv', 'overdue_z', 'purchase_days_trend', 'log_gap_mean'] as const;

export function rhythmVector(r: FeatureRow, h: Rhythm | undefined): number[] {
  if (!h || h.N_GAPS === 0) return [0, 0, Math.log((h?.DAYS_90 ?? 0) + 1) - Math.log((h?.DAYS_PREV_90 ?? 0) + 1), 0];
  const since = r.DAYS_SINCE_LAST_PURCHASE ?? 0;
  // With one gap there is no spread: the mean stands in for it (a Poisson-like rhythm).
  const sd = h.N_GAPS > 1 ? Math.max(h.GAP_SD, 1) : Math.max(h.GAP_MEAN, 1);
  return [
    h.N_GAPS > 1 ? Math.log1p(h.GAP_SD / Math.max(h.GAP_MEAN, 1)) : 0,
    Math.max(-5, Math.min(5, (since - h.GAP_MEAN) / sd)),
    Math.log(h.DAYS_90 + 1) - Math.log(h.DAYS_PREV_90 + 1),
    Math.log1p(h.GAP_MEAN),
  ];
}

/** The model's input vector for one purchaser, given the frequency model fitted on the same snapshot. */
export function churnVector(r: FeatureRow, clv: Pick<ClvModel, 'bgnbd'>, horizonDays: number, rhythm?: Rhythm | null): number[] {
  const rfm = rfmOf(r);
  const s = { P_ALIVE: probabilityAlive(clv.bgnbd.params, rfm), PREDICTED_PURCHASES: expectedPurchases(clv.bgnbd.params, rfm, horizonDays / 7) };
  const days = r.DAYS_SINCE_LAST_PURCHASE ?? 0;
  const gap = r.FREQUENCY > 0 ? (r.RECENCY_WEEKS * 7) / r.FREQUENCY : r.T_WEEKS * 7 + 1;
  const l = Math.log1p;
  return [
    l(days), l(r.FREQUENCY), l(r.TENURE_DAYS), l(r.AVG_ORDER_VALUE), l(r.ORDERS_30D), l(r.ORDERS_90D), l(r.SPEND_90D),
    l(r.SESSIONS_30D), l(r.EVENTS_30D), l(r.CART_ADDS_30D), l(r.RETURNS_90D), l(days / Math.max(gap, 1)),
    s.P_ALIVE ?? 1, l(s.PREDICTED_PURCHASES), probabilityNoPurchase(clv.bgnbd.params, rfmOf(r), horizonDays / 7),
    ...(rhythm === undefined ? [] : rhythmVector(r, rhythm ?? undefined)),
  ];
}

export interface ChurnModel {
  kind: 'logistic_platt' | 'bgnbd_fallback';
  horizonDays: number;
  /**
   * Horizon of the training labels. Equal to horizonDays unless the history is too short to observe a whole horizon
   * after any snapshot: then the longest horizon that fits is learnt and the risk is extended to horizonDays by a
   * constant hazard, P(no purchase in H) = P(no purchase in H')^(H/H') (a documented approximation).
   */
  labelHorizonDays: number;
  features: readonly string[];
  /** Whether the rhythm features are in: chosen on the calibration snapshot (the higher AUC of with and without). */
  rhythm?: boolean;
  standardizer?: Standardizer;
  logistic?: LogisticModel;
  platt?: PlattScaling;
  /** Churn rate of customers without purchases in the training snapshots (their score; no purchase history to model). */
  nonBuyerRisk: number;
  trainingSnapshots: string[];
  calibrationSnapshot?: string;
  trainingWindow: { start: string; end: string };
  metrics: Record<string, number>;
}

export interface ChurnTrainingOptions {
  /** Frequency model to fit on each training snapshot (the one chosen for scoring). */
  variant?: 'bgnbd' | 'mbgnbd';
  /** Past snapshots to use (default 6). */
  snapshots?: number;
  /** Days between past snapshots (default 14). */
  stepDays?: number;
  /** First purchase date in the data: snapshots need at least `stepDays` of history after it. */
  firstDate: string;
  /** Frequency-model parameters to warm-start each snapshot's fit from (the scoring fit: nearby data, nearby optimum). */
  start?: BgNbdParams;
  /** When given, each labelled snapshot is pushed here too (the learned CLV trains on the same snapshots, at no extra scan). */
  collect?: LabelledSnapshot[];
}

/** A training snapshot: purchasers' features as of `date`, what they did in the label window, the frequency fit. */
export interface LabelledSnapshot {
  date: string;
  labelHorizonDays: number;
  rows: FeatureRow[];
  /** Spend in (date, date + labelHorizonDays], per row. */
  spend: number[];
  bgnbd: BgNbdParams;
  /** Each row's rhythm as of `date` (gaps between purchase days, recent trend). */
  rhythm: Rhythm[];
}

/** Snapshot dates s with s + horizon <= asOf, newest first. */
export function trainingDates(asOf: string, horizonDays: number, o: ChurnTrainingOptions): string[] {
  const n = o.snapshots ?? 6;
  const step = o.stepDays ?? 14;
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const s = addDays(asOf, -horizonDays - k * step);
    if (s < addDays(o.firstDate, step)) break;
    out.push(s);
  }
  return out;
}

interface Labelled {
  id: string;
  x: number[];
  /** x with the rhythm features. */
  xr: number[];
  y: 0 | 1;
}

/**
 * The snapshot columns churnVector and the frequency fit read: a training snapshot selects only these, and DuckDB then
 * skips the aggregates nobody reads (distinct products, 7-day windows, ...). toFeatureRow sets the others to 0.
 */
const CHURN_INPUTS = [
  'CUSTOMER360_ID', 'HAS_PURCHASED', 'DAYS_SINCE_LAST_PURCHASE', 'FREQUENCY', 'RECENCY_WEEKS', 'T_WEEKS', 'TENURE_DAYS',
  'AVG_ORDER_VALUE', 'MONETARY_REPEAT', 'ORDERS_30D', 'ORDERS_90D', 'SPEND_90D', 'SESSIONS_30D', 'EVENTS_30D', 'CART_ADDS_30D', 'RETURNS_90D',
  // read by the learned CLV (clv-learned.ts), which trains on these snapshots too
  'REVENUE', 'SPEND_30D', 'PURCHASE_DAYS',
] as const satisfies readonly (keyof FeatureRow)[];

/**
 * Purchasers kept per training snapshot at most: a stable sample (by hash of the id), so that training costs the same
 * at 5,000 or 2 million customers; a logistic regression on 15 features needs no more.
 */
export const MAX_TRAINING_PURCHASERS = 3000;

/**
 * One labelled snapshot: features as of s for a stable sample of its purchasers, labels from purchases in
 * (s, s + horizon], all in one query; only the counts of non-buyers come back for them.
 */
export async function labelledSnapshot(engine: Engine, s: string, horizonDays: number, variant?: 'bgnbd' | 'mbgnbd', start?: BgNbdParams, collect?: LabelledSnapshot[]): Promise<{ rows: Labelled[]; nonBuyers: number; nonBuyerChurn: number }> {
  const table = `churn_snap_${s.replace(/-/g, '')}`;
  await engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS
    WITH f AS (${featureSnapshotSql(s)}),
    b AS (SELECT CUSTOMER360_ID, sum(AMOUNT) AS SPEND FROM base_tx WHERE TX_DATE > DATE ${lit(s)} AND TX_DATE <= DATE ${lit(addDays(s, horizonDays))} GROUP BY 1)
    , h AS (${rhythmSql(s)})
    SELECT ${CHURN_INPUTS.map((c) => `f.${c}`).join(', ')}, ${RHYTHM_COLUMNS.map((c) => `h.${c}`).join(', ')},
      b.CUSTOMER360_ID IS NULL AS CHURNED, coalesce(b.SPEND, 0) AS LABEL_SPEND
    FROM f LEFT JOIN b USING (CUSTOMER360_ID) LEFT JOIN h USING (CUSTOMER360_ID)`);
  const [counts] = await engine.all<{ N: number; C: number }>(`SELECT count(*)::INTEGER AS N, count(*) FILTER (WHERE CHURNED)::INTEGER AS C FROM ${table} WHERE NOT HAS_PURCHASED`);
  const sample = (await engine.all<Record<string, unknown>>(`SELECT * FROM ${table} WHERE HAS_PURCHASED
    ORDER BY hash(CUSTOMER360_ID), CUSTOMER360_ID LIMIT ${MAX_TRAINING_PURCHASERS}`)).map((r) => ({ row: toFeatureRow(r), rhythm: toRhythm(r), churned: r.CHURNED === true, spend: Number(r.LABEL_SPEND) }));
  await engine.run(`DROP TABLE ${table}`);
  // Churn features use the frequency model only; the spend model is not fitted here.
  const clv = { bgnbd: fitFrequency(sample.map((x) => x.row), variant, start) };
  collect?.push({ date: s, labelHorizonDays: horizonDays, rows: sample.map((x) => x.row), spend: sample.map((x) => x.spend), bgnbd: clv.bgnbd.params, rhythm: sample.map((x) => x.rhythm) });
  return {
    rows: sample.map(({ row, rhythm, churned }) => {
      const x = churnVector(row, clv, horizonDays);
      return { id: row.CUSTOMER360_ID, x, xr: [...x, ...rhythmVector(row, rhythm)], y: churned ? 1 : 0 };
    }),
    nonBuyers: Number(counts?.N ?? 0),
    nonBuyerChurn: Number(counts?.C ?? 0),
  };
}

/** Stable 0..1 hash of an id, for a deterministic split when only one snapshot exists. */
function unitHash(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

export async function trainChurn(engine: Engine, asOf: string, requestedHorizon: number, o: ChurnTrainingOptions): Promise<ChurnModel> {
  const step = o.stepDays ?? 14;
  let horizonDays = requestedHorizon;
  let dates = trainingDates(asOf, horizonDays, o);
  if (dates.length === 0) {
    // Too little history for the requested horizon: learn the longest one with two snapshots (at least 14 days).
    const available = Math.round((Date.parse(asOf) - Date.parse(o.firstDate)) / 86_400_000);
    const shorter = available - 3 * step;
    if (shorter >= 14) {
      horizonDays = shorter;
      dates = trainingDates(asOf, horizonDays, o);
    }
  }
  const labelHorizonDays = horizonDays;
  horizonDays = requestedHorizon;
  const window = { start: o.firstDate, end: asOf };
  if (dates.length === 0) {
    // Too little history for any labelled snapshot: fall back to BG/NBD's own P(no purchase in the horizon) (recorded as such).
    return { kind: 'bgnbd_fallback', horizonDays, labelHorizonDays: horizonDays, features: ['bgnbd_p_no_purchase'], nonBuyerRisk: 1, trainingSnapshots: [], trainingWindow: window, metrics: {} };
  }
  const sets: Labelled[][] = [];
  let nonBuyers = 0;
  let nonBuyerChurn = 0;
  for (const s of dates) {
    const l = await labelledSnapshot(engine, s, labelHorizonDays, o.variant, o.start, o.collect);
    sets.push(l.rows);
    nonBuyers += l.nonBuyers;
    nonBuyerChurn += l.nonBuyerChurn;
  }
  // Newest snapshot calibrates (and measures) the model trained on the older ones; with one snapshot, a stable
  // 20% of its customers do.
  let train: Labelled[];
  let calib: Labelled[];
  if (sets.length > 1) {
    train = sets.slice(1).flat();
    calib = sets[0]!;
  } else {
    train = sets[0]!.filter((r) => unitHash(r.id) >= 0.2);
    calib = sets[0]!.filter((r) => unitHash(r.id) < 0.2);
  }
  const classes = new Set(train.map((r) => r.y));
  if (train.length < 10 || classes.size < 2 || calib.length < 5) {
    return { kind: 'bgnbd_fallback', horizonDays, labelHorizonDays: horizonDays, features: ['bgnbd_p_no_purchase'], nonBuyerRisk: 1, trainingSnapshots: dates, trainingWindow: window, metrics: { trainingRows: train.length } };
  }
  // Fitted with and without the rhythm features; the calibration snapshot (not trained on) decides.
  const fitOn = (pick: (r: Labelled) => number[]) => {
    const standardizer = fitStandardizer(train.map(pick));
    const logistic = fitLogistic(train.map((r) => standardize(standardizer, pick(r))), train.map((r) => r.y), 1);
    const scores = calib.map((r) => logit(logistic, standardize(standardizer, pick(r))));
    return { standardizer, logistic, scores, auc: auc(scores, calib.map((r) => r.y)) };
  };
  const base = fitOn((r) => r.x);
  const withRhythm = fitOn((r) => r.xr);
  const rhythm = withRhythm.auc > base.auc;
  const { standardizer, logistic, scores: calibScores } = rhythm ? withRhythm : base;
  const platt = new Set(calib.map((r) => r.y)).size === 2 ? fitPlatt(calibScores, calib.map((r) => r.y)) : { a: 1, b: 0 };
  const calibP = calibScores.map((s) => applyPlatt(platt, s));
  const brier = calibP.reduce((s, p, i) => s + (p - calib[i]!.y) ** 2, 0) / calib.length;
  return {
    kind: 'logistic_platt',
    horizonDays,
    labelHorizonDays,
    features: rhythm ? [...CHURN_FEATURES, ...RHYTHM_FEATURES] : CHURN_FEATURES,
    rhythm,
    standardizer,
    logistic,
    platt,
    nonBuyerRisk: nonBuyers > 0 ? nonBuyerChurn / nonBuyers : 1,
    trainingSnapshots: sets.length > 1 ? dates.slice(1) : dates,
    calibrationSnapshot: dates[0],
    trainingWindow: { start: o.firstDate, end: addDays(dates[0]!, labelHorizonDays) },
    metrics: {
      trainingRows: train.length,
      calibrationRows: calib.length,
      trainingChurnRate: train.filter((r) => r.y === 1).length / train.length,
      calibrationAuc: auc(calibScores, calib.map((r) => r.y)),
      calibrationAucWithoutRhythm: base.auc,
      calibrationAucWithRhythm: withRhythm.auc,
      calibrationBrier: brier,
    },
  };
}

/** CHURN_RISK in 0..1 for one customer of the scoring snapshot (`clv` fitted on that snapshot). */
export function scoreChurn(model: ChurnModel, r: FeatureRow, clv: ClvModel, rhythm?: Map<string, Rhythm>): number {
  if (!r.HAS_PURCHASED) return model.labelHorizonDays === model.horizonDays ? model.nonBuyerRisk : Math.pow(model.nonBuyerRisk, model.horizonDays / model.labelHorizonDays);
  if (model.kind === 'bgnbd_fallback' || !model.logistic || !model.standardizer || !model.platt) {
    return probabilityNoPurchase(clv.bgnbd.params, rfmOf(r), model.horizonDays / 7);
  }
  if (model.rhythm && !rhythm) throw new Error('scoreChurn: this model uses rhythm features; pass rhythmAsOf(engine, asOf)');
  const x = churnVector(r, clv, model.labelHorizonDays, model.rhythm ? rhythm!.get(r.CUSTOMER360_ID) ?? null : undefined);
  const p = applyPlatt(model.platt, logit(model.logistic, standardize(model.standardizer, x)));
  return model.labelHorizonDays === model.horizonDays ? p : Math.pow(p, model.horizonDays / model.labelHorizonDays);
}
