// The intelligence outputs in the catalogue: feature snapshots, scores, segments, recommendations and the model
// registry. Their compute is TypeScript (the jobs in jobs/gold-intelligence-*.ts fit and score models and hand the
// rows to the runner, which writes them in these shapes).
import { columns, type ColumnSpec, type Dataset } from '../catalogue/dataset.ts';
import { T } from '../warehouse/types.ts';
import { GOLD_ROOT } from '../gold/paths.ts';
import { WINDOWS } from './features.ts';

/** What the models read from Silver (src/intelligence/input.ts). */
const MODEL_INPUTS = [
  'customer_transactions', 'customer_transaction_items', 'customer_behavioral_events', 'customer_session_data', 'customer_preference_data', 'customers',
];

const ID: ColumnSpec = ['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution (CUSTOMER360_ID)'];
const AS_OF: ColumnSpec = ['AS_OF_DATE', T.date, 'As-of date: only data with event time on or before it was used'];

function intelligence(d: Omit<Dataset, 'layer' | 'path' | 'maintenance' | 'columns' | 'inputs'> & { columns: readonly ColumnSpec[]; inputs?: readonly string[] }): Dataset {
  return { layer: 'gold', path: `${GOLD_ROOT}/${d.name}`, maintenance: 'snapshot', inputs: MODEL_INPUTS, ...d, columns: columns(d.columns) };
}

const windowed = (metric: string, type: typeof T.integer, what: string): ColumnSpec[] =>
  WINDOWS.map((n): ColumnSpec => [`${metric}_${n}D`, type, `${what} in the ${n} days up to the as-of date`]);

export const featureSnapshots = intelligence({
  name: 'feature_snapshots',
  description: 'Versioned per-customer feature snapshot (lifetime, BG/NBD inputs, 7/30/90-day windows) every model reads',
  grain: 'one row per CUSTOMER360_ID registered or buying by the as-of date',
  job: 'gold-intelligence-features',
  // summed from the job's day-partitioned aggregates (daily-inputs.ts) and the customers' registrations
  inputs: ['customers', 'model_customer_daily', 'model_product_daily'],
  primaryKey: ['CUSTOMER360_ID'],
  columns: [
    ID, AS_OF,
    ['HAS_PURCHASED', T.boolean, 'At least one clean purchase by the as-of date'],
    ['FIRST_PURCHASE_DATE', T.date, 'First purchase day'], ['LAST_PURCHASE_DATE', T.date, 'Latest purchase day'],
    ['PURCHASE_DAYS', T.integer, 'Days with a purchase (purchase occasions)'], ['ORDERS', T.integer, 'Clean purchases'],
    ['REVENUE', T.double, 'Spend on clean purchases'], ['AVG_ORDER_VALUE', T.double, 'REVENUE / ORDERS'],
    ['FREQUENCY', T.integer, 'Repeat purchase days (BG/NBD x)'], ['RECENCY_WEEKS', T.double, 'First to last purchase, weeks (BG/NBD t_x)'],
    ['T_WEEKS', T.double, 'First purchase to the as-of date, weeks (BG/NBD T)'], ['MONETARY_REPEAT', T.double, 'Mean spend per repeat purchase day (Gamma-Gamma)'],
    ['DAYS_SINCE_LAST_PURCHASE', T.bigint, 'Days from the latest purchase to the as-of date'], ['TENURE_DAYS', T.bigint, 'Days since registration or first purchase'],
    ...windowed('ORDERS', T.integer, 'Clean purchases'), ...windowed('SPEND', T.double, 'Spend'),
    ...windowed('SESSIONS', T.integer, 'Sessions'), ...windowed('EVENTS', T.integer, 'Behavioural events'),
    ['CART_ADDS_30D', T.integer, 'Cart adds in the 30 days up to the as-of date'], ['RETURNS_90D', T.integer, 'Returned products in the 90 days up to the as-of date'],
    ['DISTINCT_PRODUCTS', T.integer, 'Distinct products bought'], ['DISTINCT_CATEGORIES', T.integer, 'Distinct categories bought'],
    ['FEATURE_SNAPSHOT_VERSION', T.varchar, 'Definition version, as-of date and content hash'],
  ],
});

export const riskScores = intelligence({
  name: 'risk_scores',
  description: 'Churn risk and CLV predictions per person and as-of date (from the intelligence models)',
  grain: 'one row per CUSTOMER360_ID in the feature snapshot',
  job: 'gold-intelligence-scores',
  // scoring with stored models reads the features job's snapshot of the as-of date (snapshot-inputs.ts) and the
  // purchase days of model_customer_daily (the churn model's rhythm)
  inputs: [...MODEL_INPUTS, 'feature_snapshots', 'model_customer_daily'],
  primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE'],
  columns: [
    ID, AS_OF, ['CHURN_RISK', T.double, 'Probability of no purchase within the horizon (0..1)'], ['PREDICTED_PURCHASES', T.double, 'Expected purchases within the horizon'],
    ['PREDICTED_CLV', T.double, 'Expected spend within the horizon'], ['P_ALIVE', T.double, 'Probability the customer is still active (BG/NBD)'],
    ['CHURN_MODEL_VERSION', T.varchar, 'Churn model version (MODEL_REGISTRY)'], ['CLV_MODEL_VERSION', T.varchar, 'CLV model version (MODEL_REGISTRY)'],
  ],
  warehouse: { schema: 'CUSTOMER_360', table: 'CUSTOMER_RISK_SCORES', strategy: 'partition', clusterBy: ['AS_OF_DATE'] },
});

export const customerSegments = intelligence({
  name: 'customer_segments',
  description: 'Behavioural segment of each person per as-of date (from the segmentation model)',
  grain: 'one row per CUSTOMER360_ID in the feature snapshot',
  job: 'gold-intelligence-segments',
  // the segments job reads the features job's snapshot of the as-of date (snapshot-inputs.ts), else Silver
  inputs: [...MODEL_INPUTS, 'feature_snapshots'],
  primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE'],
  columns: [
    ID, AS_OF, ['SEGMENT_ID', T.integer, 'Segment number'], ['SEGMENT_LABEL', T.varchar, 'Stable segment label'], ['MODEL_VERSION', T.varchar, 'Segmentation model version'],
    ['RFM_CODE', T.varchar, 'R, F and M quintile scores as three digits'], ['RFM_SEGMENT', T.varchar, 'Named RFM segment'],
  ],
  warehouse: { schema: 'CUSTOMER_360', table: 'CUSTOMER_SEGMENTS', strategy: 'partition', clusterBy: ['AS_OF_DATE'] },
});

export const segmentProfiles = intelligence({
  name: 'segment_profiles',
  description: 'Per segment: size, share and average value, orders, recency, tenure and activity',
  grain: 'one row per SEGMENT_ID',
  job: 'gold-intelligence-segments',
  primaryKey: ['AS_OF_DATE', 'SEGMENT_ID'],
  columns: [
    AS_OF, ['SEGMENT_ID', T.integer, 'Segment number'], ['SEGMENT_LABEL', T.varchar, 'Stable segment label'], ['CUSTOMERS', T.integer, 'People in the segment'],
    ['SHARE', T.double, 'Share of all people'], ['AVG_REVENUE', T.double, 'Average revenue'], ['AVG_ORDERS', T.double, 'Average orders'],
    ['AVG_ORDER_VALUE', T.double, 'Average order value'], ['AVG_DAYS_SINCE_LAST_PURCHASE', T.double, 'Average days since the latest purchase'],
    ['AVG_TENURE_DAYS', T.double, 'Average tenure in days'], ['AVG_EVENTS_90D', T.double, 'Average behavioural events in 90 days'],
    ['MODEL_VERSION', T.varchar, 'Segmentation model version'],
  ],
  warehouse: { schema: 'CUSTOMER_360', table: 'SEGMENT_PROFILES', strategy: 'partition', clusterBy: ['AS_OF_DATE'], comment: 'Per segment and as-of date: size, share, value, orders, recency, tenure and activity' },
});

/** Between trainings the recommendations read the features job's snapshot and model aggregates (daily-inputs.ts). */
const RECOMMENDATION_INPUTS = [...MODEL_INPUTS, 'feature_snapshots', 'model_product_daily', 'model_session_product_daily', 'model_preference_daily'];

const RECOMMENDATION_COLUMNS: ColumnSpec[] = [
  ID, ['PRODUCT_ID', T.varchar, 'Recommended product'], ['RANK', T.integer, 'Rank, 1 = best'], ['SCORE', T.double, 'Score'], ['REASON', T.varchar, 'Why it was recommended'],
  ['ALGORITHM', T.varchar, 'Algorithm (hybrid; baselines: popularity, repeat_purchase)'], ['MODEL_VERSION', T.varchar, 'Model version (MODEL_REGISTRY)'], AS_OF,
];

export const productRecommendations = intelligence({
  name: 'product_recommendations',
  description: 'Top-N product recommendations per person, algorithm and as-of date (1 = best)',
  grain: 'one row per (CUSTOMER360_ID, ALGORITHM, RANK)',
  job: 'gold-intelligence-recommendations',
  inputs: RECOMMENDATION_INPUTS,
  primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE', 'ALGORITHM', 'RANK'],
  columns: RECOMMENDATION_COLUMNS,
  warehouse: { schema: 'RECOMMENDATIONS', table: 'PRODUCT_RECOMMENDATIONS', strategy: 'partition', clusterBy: ['AS_OF_DATE', 'CUSTOMER360_ID'] },
});

export const baselineRecommendations = intelligence({
  name: 'baseline_recommendations',
  description: 'The two baselines the hybrid is measured against (popularity, repeat purchase), in the same shape',
  grain: 'one row per (ALGORITHM, CUSTOMER360_ID, RANK)',
  job: 'gold-intelligence-recommendations',
  inputs: RECOMMENDATION_INPUTS,
  primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE', 'ALGORITHM', 'RANK'],
  columns: RECOMMENDATION_COLUMNS,
});

/** Each model job writes its own file of the registry's as-of folder. */
export const REGISTRY_PARTS = {
  clv_churn: 'gold-intelligence-scores',
  segments: 'gold-intelligence-segments',
  recommendations: 'gold-intelligence-recommendations',
} as const;

export const modelRegistry = intelligence({
  name: 'model_registry',
  description: 'Every trained model version with parameters, training window, feature snapshot and metrics',
  grain: 'one row per (MODEL_NAME, MODEL_VERSION)',
  job: 'gold-intelligence-scores',
  parts: REGISTRY_PARTS,
  primaryKey: ['MODEL_NAME', 'MODEL_VERSION'],
  columns: [
    ['MODEL_NAME', T.varchar, 'Model name'], ['MODEL_VERSION', T.varchar, 'Model version'], ['MODEL_TYPE', T.varchar, 'Model type'],
    ['TRAINED_AT', T.timestamp, 'Training time (UTC)'], ['TRAINING_WINDOW_START', T.date, 'First day of training data'],
    ['TRAINING_WINDOW_END', T.date, 'Last day of training data'], ['FEATURE_SNAPSHOT_VERSION', T.varchar, 'Feature snapshot used'],
    ['PARAMETERS_JSON', T.varchar, 'Fitted parameters (JSON)'], ['METRICS_JSON', T.varchar, 'Evaluation metrics (JSON)'],
  ],
  warehouse: { schema: 'CUSTOMER_360', table: 'MODEL_REGISTRY', strategy: 'append', clusterBy: ['MODEL_NAME'] },
});

export const INTELLIGENCE_DATASETS: readonly Dataset[] = [
  featureSnapshots, riskScores, customerSegments, segmentProfiles, productRecommendations, baselineRecommendations, modelRegistry,
];
