// What the models read between trainings, kept as day-partitioned aggregates under gold/aggregates/ (maintained like
// Gold's customer_daily, src/gold/daily-aggregates.ts: only the days the Silver change logs name are recomputed, from
// those days' Silver partitions). Each day's rows follow the very rules a load of all of Silver uses (input.ts's base_*
// SQL, features.ts's feature inputs), so a snapshot summed from them equals one built from all of Silver (tested), and
// a daily run reads the changed days plus these compact rows instead of every event and line ever.
//   model_customer_daily  per person and day: clean purchases, exact spend, sessions, events, cart adds, returned products
//   model_product_daily   per person, day and product: lines bought (KIND 'line', with category, brand, name), products
//                         returned ('return') and events ('view', product and category viewed; product may be null)
//   model_session_product_daily  distinct (person, session, day, product) of events with a product: co-views
//   model_preference_daily       per person, day, preference type and value: the strongest stated preference
// Transaction items are one Silver file merged by key (no event date): a day's lines are the items of that day's
// transactions, and a changed item alone re-computes the day of its transaction (src/gold/day-partitioned.ts).
import type { Engine } from '../engine/duckdb.ts';
import { readDatasetSql, readDatasetState } from '../catalogue/partitioned.ts';
import { emptySql } from '../catalogue/runner.ts';
import { aggregate, maintainAggregate, type DailyAggregate } from '../gold/daily-aggregates.ts';
import { dateLit } from '../gold/paths.ts';
import type { Lake } from '../lake/lake.ts';
import type { JobContext } from '../runtime/job.ts';
import { T } from '../warehouse/types.ts';
import { featureDaysSql, type FeatureInputs } from './features.ts';
import type { SignalInputs } from './recommend-signals.ts';
import { baseEventsSql, baseLinesSql, basePrefsSql, baseReturnsSql, baseSessionsSql, baseTxSql, linesClassifiedSql, txClassifiedSql } from './input.ts';

const JOB = 'gold-intelligence-features';

/** base_* relations over the d_<source> views of the days being recomputed (items: those of the days' transactions). */
const dayBase = (d: string) => `
  txc AS (${txClassifiedSql(`${d}transactions`)}),
  tx AS (${baseTxSql('txc')}),
  lc AS (${linesClassifiedSql(`(SELECT * FROM ${d}items WHERE TRANSACTION_ID IN (SELECT TRANSACTION_ID FROM ${d}transactions))`, 'txc')}),
  lines AS (${baseLinesSql('lc')}),
  ret AS (${baseReturnsSql('lc')}),
  ev AS (${baseEventsSql(`${d}events`)}),
  se AS (${baseSessionsSql(`${d}sessions`)})`;

export const modelCustomerDaily: DailyAggregate = aggregate({
  name: 'model_customer_daily',
  description: 'Per person and day: the feature snapshot inputs (clean purchases and spend, sessions, events, cart adds, returned products)',
  grain: 'one row per (CUSTOMER360_ID, ACTIVITY_DATE) with any of them',
  job: JOB,
  primaryKey: ['CUSTOMER360_ID', 'ACTIVITY_DATE'],
  sources: ['transactions', 'items', 'events', 'sessions'],
  columns: [
    ['CUSTOMER360_ID', T.varchar, 'Person id (CUSTOMER360_ID)'],
    ['ACTIVITY_DATE', T.date, 'Day (the event date of the Silver rows; a line: its transaction date)'],
    ['ORDERS', T.integer, 'Clean purchases (src/intelligence/exclusions.ts)'],
    ['AMOUNT', { kind: 'decimal', precision: 38, scale: 6 }, 'Their spend (exact sum)'],
    ['SESSIONS', T.integer, 'Sessions started'],
    ['EVENTS', T.integer, 'Behavioural events'],
    ['CART_ADDS', T.integer, 'Cart adds'],
    ['RETURNS', T.integer, 'Distinct products returned'],
  ],
  daySql: (d) => `WITH ${dayBase(d)}
SELECT CUSTOMER360_ID, DAY AS ACTIVITY_DATE, ORDERS, AMOUNT, SESSIONS, EVENTS, CART_ADDS, RETURNS
FROM (${featureDaysSql({ tx: 'tx', sessions: 'se', events: 'ev', returns: 'ret' })})`,
});

export const modelProductDaily: DailyAggregate = aggregate({
  name: 'model_product_daily',
  description: 'Per person, day and product: lines bought, products returned and events (the product inputs of features and recommendations)',
  grain: 'one row per (KIND, CUSTOMER360_ID, ACTIVITY_DATE, PRODUCT_ID, CATEGORY, BRAND, PRODUCT_NAME)',
  job: JOB,
  primaryKey: ['KIND', 'CUSTOMER360_ID', 'ACTIVITY_DATE', 'PRODUCT_ID', 'CATEGORY', 'BRAND', 'PRODUCT_NAME'],
  sources: ['transactions', 'items', 'events'],
  columns: [
    ['KIND', T.varchar, "'line' (a clean purchase line), 'return' (a returned product) or 'view' (a behavioural event)"],
    ['CUSTOMER360_ID', T.varchar, 'Person id (CUSTOMER360_ID)'],
    ['ACTIVITY_DATE', T.date, 'Day (a line: its transaction date; an event: its date)'],
    ['PRODUCT_ID', T.varchar, 'Product (null for an event without one)'],
    ['CATEGORY', T.varchar, 'Category (upper-cased; of the line, or viewed)'],
    ['BRAND', T.varchar, 'Brand of the line (upper-cased)'],
    ['PRODUCT_NAME', T.varchar, 'Product name on the line'],
    ['N', T.integer, 'Lines, or events (1 for a return)'],
  ],
  daySql: (d) => `WITH ${dayBase(d)}
SELECT 'line' AS KIND, CUSTOMER360_ID, TX_DATE AS ACTIVITY_DATE, PRODUCT_ID, CATEGORY, BRAND, PRODUCT_NAME, CAST(count(*) AS INTEGER) AS N
  FROM lines WHERE CUSTOMER360_ID IS NOT NULL AND TX_DATE IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'return', CUSTOMER360_ID, TX_DATE, PRODUCT_ID, NULL, NULL, NULL, 1 FROM ret WHERE CUSTOMER360_ID IS NOT NULL AND TX_DATE IS NOT NULL
UNION ALL
SELECT 'view', CUSTOMER360_ID, EVENT_DATE, PRODUCT_ID, CATEGORY, NULL, NULL, CAST(count(*) AS INTEGER)
  FROM ev WHERE CUSTOMER360_ID IS NOT NULL GROUP BY ALL`,
});

export const modelSessionProductDaily: DailyAggregate = aggregate({
  name: 'model_session_product_daily',
  description: 'Distinct products of each session and day (events with a product): the co-view input of recommendations',
  grain: 'one row per (CUSTOMER360_ID, SESSION_ID, ACTIVITY_DATE, PRODUCT_ID); the ids null for events without them',
  job: JOB,
  primaryKey: ['CUSTOMER360_ID', 'SESSION_ID', 'ACTIVITY_DATE', 'PRODUCT_ID'],
  sources: ['events'],
  columns: [
    ['CUSTOMER360_ID', T.varchar, 'Person id of the events (null when anonymous)'],
    ['SESSION_ID', T.varchar, 'Session (null for events without one)'],
    ['ACTIVITY_DATE', T.date, 'Day of the events'],
    ['PRODUCT_ID', T.varchar, 'Product viewed'],
  ],
  daySql: (d) => `WITH ev AS (${baseEventsSql(`${d}events`)})
SELECT DISTINCT CUSTOMER360_ID, SESSION_ID, EVENT_DATE AS ACTIVITY_DATE, PRODUCT_ID FROM ev WHERE PRODUCT_ID IS NOT NULL`,
});

export const modelPreferenceDaily: DailyAggregate = aggregate({
  name: 'model_preference_daily',
  description: 'Per person, day, preference type and value: the strongest active stated preference (content signal of recommendations)',
  grain: 'one row per (CUSTOMER360_ID, ACTIVITY_DATE, PREFERENCE_TYPE, PREFERENCE_VALUE)',
  job: JOB,
  primaryKey: ['CUSTOMER360_ID', 'ACTIVITY_DATE', 'PREFERENCE_TYPE', 'PREFERENCE_VALUE'],
  sources: ['preferences'],
  columns: [
    ['CUSTOMER360_ID', T.varchar, 'Person id (CUSTOMER360_ID)'],
    ['ACTIVITY_DATE', T.date, 'Day the preference was stated'],
    ['PREFERENCE_TYPE', T.varchar, 'Preference type (upper-cased)'],
    ['PREFERENCE_VALUE', T.varchar, 'Preference value (upper-cased)'],
    ['STRENGTH', T.double, 'Strongest strength (0.5 when not given)'],
  ],
  daySql: (d) => `WITH pr AS (${basePrefsSql(`${d}preferences`)})
SELECT CUSTOMER360_ID, PREFERENCE_DATE AS ACTIVITY_DATE, PREFERENCE_TYPE, PREFERENCE_VALUE, max(STRENGTH) AS STRENGTH FROM pr GROUP BY ALL`,
});

export const MODEL_AGGREGATES: readonly DailyAggregate[] = [modelCustomerDaily, modelProductDaily, modelSessionProductDaily, modelPreferenceDaily];

/** Brings the model aggregates up to date with Silver (every day when `full`), reporting per dataset. */
export async function maintainModelAggregates(ctx: JobContext, engine: Engine, full: boolean): Promise<void> {
  for (const ds of MODEL_AGGREGATES) {
    const started = Date.now();
    const r = await maintainAggregate(ctx, engine, ds, { full });
    ctx.report.inputs.push(...r.files);
    ctx.report.rowCounts[ds.name] = r.rows;
    ctx.report.metrics[`${ds.name}.maintain`] = { mode: r.mode, days: r.days, silverFiles: r.files.length, ms: Date.now() - started };
  }
}

/** Views m_<name> of the model aggregates' days up to `asOf`; returns the files read. */
export async function registerModelAggregates(engine: Engine, lake: Lake, asOf: string): Promise<string[]> {
  const read: string[] = [];
  for (const ds of MODEL_AGGREGATES) {
    const state = await readDatasetState(lake, ds.path);
    const files = state ? Object.entries(state.partitions).filter(([p]) => p <= asOf).flatMap(([, f]) => f).sort() : [];
    read.push(...files);
    await engine.run(`CREATE OR REPLACE TEMP VIEW m_${ds.name} AS SELECT * FROM ${await readDatasetSql(lake, files, emptySql(ds))} WHERE ACTIVITY_DATE <= ${dateLit(asOf)}`);
  }
  return read;
}

/** The feature snapshot's inputs over the m_ views (registerModelAggregates). */
export const AGGREGATE_FEATURE_INPUTS: FeatureInputs = {
  days: `(SELECT CUSTOMER360_ID, ACTIVITY_DATE AS DAY, ORDERS, AMOUNT, SESSIONS, EVENTS, CART_ADDS, RETURNS FROM m_model_customer_daily)`,
  products: `(SELECT DISTINCT CUSTOMER360_ID, ACTIVITY_DATE AS DAY, PRODUCT_ID, CATEGORY FROM m_model_product_daily WHERE KIND = 'line')`,
};

/** Distinct (CUSTOMER360_ID, TX_DATE) of clean purchases: the churn model's rhythm input, from the aggregate. */
export const AGGREGATE_PURCHASE_DAYS = `SELECT CUSTOMER360_ID, ACTIVITY_DATE AS TX_DATE FROM m_model_customer_daily WHERE ORDERS > 0`;

/** The recommendation signals' inputs over the m_ views (registerModelAggregates). */
export const AGGREGATE_SIGNAL_INPUTS: SignalInputs = {
  lines: `(SELECT CUSTOMER360_ID, ACTIVITY_DATE AS TX_DATE, PRODUCT_ID, CATEGORY, BRAND, PRODUCT_NAME, N FROM m_model_product_daily WHERE KIND = 'line')`,
  views: `(SELECT CUSTOMER360_ID, ACTIVITY_DATE AS EVENT_DATE, PRODUCT_ID, CATEGORY, N FROM m_model_product_daily WHERE KIND = 'view')`,
  sessionProducts: `(SELECT SESSION_ID, ACTIVITY_DATE AS EVENT_DATE, PRODUCT_ID FROM m_model_session_product_daily)`,
  returns: `(SELECT CUSTOMER360_ID, PRODUCT_ID, ACTIVITY_DATE AS TX_DATE FROM m_model_product_daily WHERE KIND = 'return')`,
  prefs: `(SELECT CUSTOMER360_ID, ACTIVITY_DATE AS PREFERENCE_DATE, PREFERENCE_TYPE, PREFERENCE_VALUE, STRENGTH FROM m_model_preference_daily)`,
};
