// Model steps over the loaded base_* tables, shared by the Gold jobs and by `c360 evaluate`: scoring customers
// (CLV + churn), segmenting them, and recommending products, each as of one date and using nothing after it.
import { lit, type Engine } from '../engine/duckdb.ts';
import { trainChurn, scoreChurn, type ChurnModel, type LabelledSnapshot } from './churn.ts';
import { scoreLearnedClvAll, type LearnedClv } from './clv-learned.ts';
import { trainClv } from './clv-training.ts';
import { fitClv, scoreClv, type ClvModel } from './clv.ts';
import { buildSnapshot, rhythmAsOf, type Snapshot } from './features.ts';
import { addEaseSignal, fitEase, storedEase } from './ease.ts';
import { applyRepeatDecay, buildCandidates, DEFAULT_REPEAT_DECAY, rank, setUsers, tuneWeights, usesEase, type TunedWeights } from './recommend.ts';
import { BASE_SIGNAL_INPUTS, DEFAULT_SIGNAL_OPTIONS, type GlobalSignals, type SignalInputs } from './recommend-signals.ts';
import { modelRecord, type ModelRecord } from './registry.ts';
import { buildSegments, type SegmentModel } from './segments.ts';

export interface CustomerScore {
  CUSTOMER360_ID: string;
  CHURN_RISK: number;
  PREDICTED_PURCHASES: number;
  PREDICTED_CLV: number;
  P_ALIVE: number | null;
}

export interface ScoringResult {
  snapshot: Snapshot;
  clv: ClvModel;
  /** What PREDICTED_CLV comes from: the learned regression or BG/NBD x Gamma-Gamma, chosen on validation. */
  learnedClv: LearnedClv;
  churn: ChurnModel;
  scores: CustomerScore[];
  clvRecord: ModelRecord;
  churnRecord: ModelRecord;
}

export async function firstPurchaseDate(engine: Engine): Promise<string> {
  const d = await engine.scalar<string | null>(`SELECT CAST(min(TX_DATE) AS VARCHAR) FROM base_tx`);
  if (!d) throw new Error('No purchases in the input (Silver CUSTOMER_TRANSACTIONS has no completed purchase on or before the as-of date)');
  return d;
}

/** The fitted CLV and churn models (plain objects: stored as JSON between training runs, src/intelligence/trained-models.ts). */
export interface ScoringModels {
  clv: ClvModel;
  churn: ChurnModel;
  learnedClv: LearnedClv;
}

/**
 * Scores every customer of a snapshot with fitted models (trained now, or stored by an earlier training run).
 * `purchaseDays`: the relation of clean purchase days the rhythm is read from (default base_tx's).
 */
export async function scoreWith(engine: Engine, asOf: string, horizonDays: number, snap: Snapshot, m: ScoringModels, purchaseDays?: string): Promise<CustomerScore[]> {
  const { clv, churn, learnedClv } = m;
  const rhythm = churn.rhythm || learnedClv.kind === 'regression' ? await rhythmAsOf(engine, asOf, purchaseDays) : undefined;
  const buyers = snap.rows.filter((r) => r.HAS_PURCHASED);
  const values = scoreLearnedClvAll(learnedClv, buyers, clv.bgnbd.params, clv.gammaGamma.params, horizonDays, rhythm);
  const valueOf = new Map(buyers.map((r, i) => [r.CUSTOMER360_ID, values[i]!]));
  return snap.rows.map((r) => {
    const base = scoreClv(clv, r, horizonDays);
    return { CUSTOMER360_ID: r.CUSTOMER360_ID, CHURN_RISK: scoreChurn(churn, r, clv, churn.rhythm ? rhythm : undefined), ...base, PREDICTED_CLV: valueOf.get(r.CUSTOMER360_ID) ?? 0 };
  });
}

export async function scoreCustomers(engine: Engine, asOf: string, horizonDays: number, snapshot?: Snapshot): Promise<ScoringResult> {
  const snap = snapshot ?? (await buildSnapshot(engine, asOf));
  const firstDate = await firstPurchaseDate(engine);
  const clv = fitClv(snap.rows);
  const labelled: LabelledSnapshot[] = [];
  const churn = await trainChurn(engine, asOf, horizonDays, { firstDate, variant: clv.bgnbd.params.variant ?? 'bgnbd', start: clv.bgnbd.params, collect: labelled });
  const ages = snap.rows.filter((r) => r.HAS_PURCHASED).map((r) => r.T_WEEKS).sort((a, b) => a - b);
  const scoringAgeWeeks = ages.length ? (ages[(ages.length - 1) >> 1]! + ages[ages.length >> 1]!) / 2 : undefined;
  const learnedClv = await trainClv(engine, asOf, horizonDays, labelled, { firstDate, variant: clv.bgnbd.params.variant ?? 'bgnbd', start: clv.bgnbd.params, scoringAgeWeeks });
  const scores = await scoreWith(engine, asOf, horizonDays, snap, { clv, churn, learnedClv });
  const { standardizer, weights, blendWeight, monetaryExponent, smearing, features, trainingSnapshots, labelHorizonDays } = learnedClv;
  const clvRecord = modelRecord({
    name: 'clv',
    asOf,
    type: learnedClv.kind === 'regression'
      ? `ridge regression of log spend on history, rhythm and BG/NBD + Gamma-Gamma features${blendWeight !== undefined && blendWeight < 1 ? `, blended ${blendWeight} : ${1 - blendWeight} with log ${learnedClv.blendWith === 'bgnbd' ? 'BG/NBD expected purchases' : 'BG/NBD x Gamma-Gamma'}` : ''} (chosen on validation)`
      : learnedClv.kind === 'past_spend' ? 'past spend, scaled to the horizon (chosen on validation)'
      : learnedClv.kind === 'bgnbd_monetary'
        ? `BG/NBD expected purchases x Gamma-Gamma spend per purchase^${monetaryExponent} (chosen on validation)`
        : 'BG/NBD + Gamma-Gamma (maximum likelihood)',
    parameters: {
      served: learnedClv.kind, candidate: learnedClv.candidate, bgnbd: clv.bgnbd.params, gammaGamma: clv.gammaGamma.params, horizonDays, timeUnit: 'week',
      ...(learnedClv.kind === 'regression' ? { regression: { features, standardizer, weights, blendWeight, blendWith: learnedClv.blendWith ?? 'bgnbd_gamma_gamma', smearing, total: learnedClv.total, labelHorizonDays, trainingSnapshots } } : {}),
      ...(learnedClv.kind === 'bgnbd_monetary' ? { monetary: { exponent: monetaryExponent, smearing, total: learnedClv.total, trainingSnapshots } } : {}),
    },
    metrics: {
      bgnbdLogLikelihood: clv.bgnbd.logLikelihood, bgnbdCustomers: clv.bgnbd.customers, bgnbdConverged: clv.bgnbd.converged, gammaGammaLogLikelihood: clv.gammaGamma.logLikelihood, gammaGammaCustomers: clv.gammaGamma.customers,
      choice: learnedClv.reason, validation: learnedClv.validation ?? null,
    },
    windowStart: firstDate,
    windowEnd: asOf,
    featureSnapshotVersion: snap.version,
  });
  const churnRecord = modelRecord({
    name: 'churn',
    asOf,
    type: churn.kind === 'logistic_platt' ? 'logistic regression + Platt calibration' : 'BG/NBD P(no purchase) fallback',
    parameters: { kind: churn.kind, horizonDays, labelHorizonDays: churn.labelHorizonDays, features: churn.features, standardizer: churn.standardizer, weights: churn.logistic?.weights, platt: churn.platt, nonBuyerRisk: churn.nonBuyerRisk, trainingSnapshots: churn.trainingSnapshots, calibrationSnapshot: churn.calibrationSnapshot },
    metrics: churn.metrics,
    windowStart: churn.trainingWindow.start,
    windowEnd: churn.trainingWindow.end,
    featureSnapshotVersion: snap.version,
  });
  return { snapshot: snap, clv, learnedClv, churn, scores, clvRecord, churnRecord };
}

export interface SegmentResult {
  model: SegmentModel;
  record: ModelRecord;
}

export function segmentCustomers(snap: Snapshot, k = 5, seed = 42, windowStart: string): SegmentResult {
  const model = buildSegments(snap.rows, k, seed);
  const record = modelRecord({
    name: 'segments',
    asOf: snap.asOf,
    type: 'RFM quintiles + k-means++ (standardised features)',
    parameters: { k: model.k, seed, features: model.features, centroids: model.centroids, labels: model.profiles.map((p) => [p.SEGMENT_ID, p.SEGMENT_LABEL]) },
    metrics: { inertia: model.inertia, sizes: Object.fromEntries(model.profiles.map((p) => [p.SEGMENT_LABEL, p.CUSTOMERS])) },
    windowStart,
    windowEnd: snap.asOf,
    featureSnapshotVersion: snap.version,
  });
  return { model, record };
}

export interface RecommendationResult {
  /** Engine tables (CUSTOMER360_ID, PRODUCT_ID, RANK, SCORE, REASON) per algorithm. */
  tables: { hybrid: string; popularity: string; repeat_purchase: string; ease?: string };
  prefix: string;
  tuning: TunedWeights;
  record: ModelRecord;
  /** EASE's weights and modelled products as ranked with (when the blend weighs it). */
  ease?: { B: Float64Array; pks: number[] };
}

/** Users of a split: the feature snapshot population as of that date (registered by then, or bought by then). */
async function usersAsOf(engine: Engine, p: string, asOf: string): Promise<void> {
  const D = `DATE ${lit(asOf)}`;
  await engine.run(`CREATE OR REPLACE TABLE ${p}users AS
    SELECT CUSTOMER360_ID FROM base_customers WHERE REGISTRATION_DATE IS NULL OR REGISTRATION_DATE <= ${D}
    UNION SELECT CUSTOMER360_ID FROM base_tx WHERE TX_DATE <= ${D}`);
}

/** What a training run stores besides the tuning: the global signals as of its date (recommend-signals.ts) and EASE's fit. */
export interface StoredGlobal {
  signals: GlobalSignals;
  ease?: { B: Float64Array; pks: number[] };
}

/**
 * `stored`: the tuning of an earlier training run (trained-models.ts), used instead of tuning again. `inputs`: what the
 * signals read (default: the base_* tables; between trainings, the model aggregates). `options.only`: a relation of
 * CUSTOMER360_IDs to rank (a daily run's changed customers); the global signals are the same whoever is ranked, so
 * each of their lists is the one ranking everybody gives. `options.global`: the global signals (and EASE's weights)
 * a training run stored, used instead of computing them from every customer's lines: only the ranked customers'
 * own rows are read.
 */
export async function recommend(
  engine: Engine, snap: Snapshot, horizonDays: number, topN = 10, windowStart: string, stored?: TunedWeights, inputs?: SignalInputs,
  options: { ease?: boolean; only?: string; global?: StoredGlobal } = {},
): Promise<RecommendationResult> {
  const asOf = snap.asOf;
  const tuning = stored ?? (await tuneWeights(engine, asOf, horizonDays, (p, d) => usersAsOf(engine, p, d)));
  const p = `rc_${asOf.replace(/-/g, '')}_`;
  await setUsers(engine, p, snap.table);
  if (options.only) await engine.run(`DELETE FROM ${p}users WHERE CUSTOMER360_ID NOT IN (SELECT CUSTOMER360_ID FROM ${options.only})`);
  await buildCandidates(engine, p, asOf, DEFAULT_SIGNAL_OPTIONS, inputs, options.global?.signals);
  await applyRepeatDecay(engine, p, asOf, tuning.repeatDecayDays ?? DEFAULT_REPEAT_DECAY);
  // EASE is fitted as of this date at the strength tuning chose (or taken as the training run stored it), when the
  // blend weighs it (or the caller wants its ranking alone, as the evaluation does).
  const lines = (inputs ?? BASE_SIGNAL_INPUTS).lines;
  const wantEase = tuning.ease && (usesEase(tuning.weights) || options.ease);
  const ease = wantEase
    ? (options.global?.ease ? await storedEase(engine, p, asOf, lines, options.global.ease, tuning.ease!.maxItems) : null)
      ?? await fitEase(engine, p, asOf, lines, tuning.ease!.lambda, tuning.ease!.maxItems)
    : null;
  if (ease) await addEaseSignal(engine, p, ease, DEFAULT_SIGNAL_OPTIONS.candidatesPerSignal);
  else if (usesEase(tuning.weights)) await engine.run(`ALTER TABLE ${p}cand ADD COLUMN S_EASE DOUBLE DEFAULT 0; ALTER TABLE ${p}cand ADD COLUMN VIA_EASE INTEGER`);
  const tables = {
    hybrid: await rank(engine, p, 'hybrid', tuning.weights, topN),
    popularity: await rank(engine, p, 'popularity', tuning.weights, topN),
    repeat_purchase: await rank(engine, p, 'repeat_purchase', tuning.weights, topN),
    ...(ease && options.ease ? { ease: await rank(engine, p, 'ease', tuning.weights, topN) } : {}),
  };
  const record = modelRecord({
    name: 'recommendations',
    asOf,
    type: tuning.served && tuning.served !== 'blend'
      ? `${tuning.served} alone (the blend did not beat it on validation)`
      : `hybrid: item-item CF (co-purchase + co-view) + content + repeat purchase + popularity${usesEase(tuning.weights) ? ' + EASE' : ''}`,
    parameters: {
      weights: tuning.weights, repeatDecayDays: tuning.repeatDecayDays ?? DEFAULT_REPEAT_DECAY, served: tuning.served ?? 'blend', tuned: tuning.tuned, tuningSplit: tuning.split, topN, signals: DEFAULT_SIGNAL_OPTIONS,
      ...(tuning.ease ? { ease: { lambda: tuning.ease.lambda, items: tuning.ease.items, maxItems: tuning.ease.maxItems } } : {}),
    },
    metrics: { validation: tuning.validation ?? null, validationNdcg: tuning.validationNdcg ?? null, ...(tuning.ease ? { easeValidationNdcgByLambda: tuning.ease.ndcgByLambda, easeInBlend: tuning.ease.blend ?? null } : {}) },
    windowStart,
    windowEnd: asOf,
    featureSnapshotVersion: snap.version,
  });
  return { tables, prefix: p, tuning, record, ...(ease ? { ease: { B: ease.B, pks: ease.pks } } : {}) };
}
