// Feature snapshots: one row per customer as of a date, with 7/30/90-day windows, shared by every model. Each window
// is (D - n days, D]; every source row is cut at D, so rows after D cannot change a snapshot (tested).
import { lit, type Engine } from '../engine/duckdb.ts';

/** Bump when the definition below changes; part of FEATURE_SNAPSHOT_VERSION. */
export const FEATURE_DEFINITION_VERSION = 1;

export const WINDOWS = [7, 30, 90] as const;

export interface FeatureRow {
  CUSTOMER360_ID: string;
  HAS_PURCHASED: boolean;
  FIRST_PURCHASE_DATE: string | null;
  LAST_PURCHASE_DATE: string | null;
  PURCHASE_DAYS: number;
  ORDERS: number;
  REVENUE: number;
  AVG_ORDER_VALUE: number;
  /** BG/NBD inputs, in weeks: repeat purchase days, recency and age. */
  FREQUENCY: number;
  RECENCY_WEEKS: number;
  T_WEEKS: number;
  /** Mean spend per repeat purchase day (Gamma-Gamma input); 0 without repeats. */
  MONETARY_REPEAT: number;
  DAYS_SINCE_LAST_PURCHASE: number | null;
  TENURE_DAYS: number;
  ORDERS_7D: number;
  ORDERS_30D: number;
  ORDERS_90D: number;
  SPEND_7D: number;
  SPEND_30D: number;
  SPEND_90D: number;
  SESSIONS_7D: number;
  SESSIONS_30D: number;
  SESSIONS_90D: number;
  EVENTS_7D: number;
  EVENTS_30D: number;
  EVENTS_90D: number;
  CART_ADDS_30D: number;
  RETURNS_90D: number;
  DISTINCT_PRODUCTS: number;
  DISTINCT_CATEGORIES: number;
}

/** Numeric feature columns (the model inputs). */
export const NUMERIC_FEATURES = [
  'PURCHASE_DAYS', 'ORDERS', 'REVENUE', 'AVG_ORDER_VALUE', 'FREQUENCY', 'RECENCY_WEEKS', 'T_WEEKS', 'MONETARY_REPEAT',
  'TENURE_DAYS', 'ORDERS_7D', 'ORDERS_30D', 'ORDERS_90D', 'SPEND_7D', 'SPEND_30D', 'SPEND_90D', 'SESSIONS_7D', 'SESSIONS_30D',
  'SESSIONS_90D', 'EVENTS_7D', 'EVENTS_30D', 'EVENTS_90D', 'CART_ADDS_30D', 'RETURNS_90D', 'DISTINCT_PRODUCTS', 'DISTINCT_CATEGORIES',
] as const satisfies readonly (keyof FeatureRow)[];

function windows(prefix: string, expr: (days: number) => string): string {
  return WINDOWS.map((d) => `${expr(d)} AS ${prefix}_${d}D`).join(', ');
}

/**
 * What a snapshot is computed from, as two relations whose rows depend on one day's data only (so the daily runs can
 * keep them as day-partitioned aggregates, src/intelligence/daily-inputs.ts, and sum them instead of re-reading all
 * of Silver):
 *   days      (CUSTOMER360_ID, DAY, ORDERS, AMOUNT DECIMAL(38,6), SESSIONS, EVENTS, CART_ADDS, RETURNS): clean purchases and
 *             their spend (exact decimal sums: the same total whatever order rows are added in), sessions started
 *             (distinct ids: a session has one start), events of known people, cart adds, distinct products returned;
 *   products  (CUSTOMER360_ID, DAY, PRODUCT_ID, CATEGORY): distinct products (and their categories) bought per day.
 * The defaults derive them from the base_* tables.
 */
export interface FeatureInputs {
  days: string;
  products: string;
}

/** The per-customer-day feature inputs over relations shaped like base_tx, base_sessions, base_events, base_returns. */
export function featureDaysSql(t = { tx: 'base_tx', sessions: 'base_sessions', events: 'base_events', returns: 'base_returns' }): string {
  return `SELECT CUSTOMER360_ID, DAY, CAST(sum(ORDERS) AS INTEGER) AS ORDERS, CAST(coalesce(sum(AMOUNT), 0) AS DECIMAL(38, 6)) AS AMOUNT,
    CAST(sum(SESSIONS) AS INTEGER) AS SESSIONS, CAST(sum(EVENTS) AS INTEGER) AS EVENTS, CAST(sum(CART_ADDS) AS INTEGER) AS CART_ADDS,
    CAST(sum(RETURNS) AS INTEGER) AS RETURNS
  FROM (
    SELECT CUSTOMER360_ID, TX_DATE AS DAY, count(*) AS ORDERS, sum(CAST(AMOUNT AS DECIMAL(38, 6))) AS AMOUNT, 0 AS SESSIONS, 0 AS EVENTS, 0 AS CART_ADDS, 0 AS RETURNS
      FROM ${t.tx} WHERE CUSTOMER360_ID IS NOT NULL AND TX_DATE IS NOT NULL GROUP BY 1, 2
    UNION ALL SELECT CUSTOMER360_ID, SESSION_DATE, 0, NULL, count(DISTINCT SESSION_ID), 0, 0, 0
      FROM ${t.sessions} WHERE CUSTOMER360_ID IS NOT NULL AND SESSION_DATE IS NOT NULL GROUP BY 1, 2
    UNION ALL SELECT CUSTOMER360_ID, EVENT_DATE, 0, NULL, 0, count(*), count(*) FILTER (WHERE EVENT_TYPE = 'CART_ADD'), 0
      FROM ${t.events} WHERE CUSTOMER360_ID IS NOT NULL AND EVENT_DATE IS NOT NULL GROUP BY 1, 2
    UNION ALL SELECT CUSTOMER360_ID, TX_DATE, 0, NULL, 0, 0, 0, count(*)
      FROM ${t.returns} WHERE CUSTOMER360_ID IS NOT NULL AND TX_DATE IS NOT NULL GROUP BY 1, 2)
  GROUP BY 1, 2`;
}

/** The per-customer-day products over a relation shaped like base_lines. */
export const featureProductsSql = (lines = 'base_lines') =>
  `SELECT DISTINCT CUSTOMER360_ID, TX_DATE AS DAY, PRODUCT_ID, CATEGORY FROM ${lines} WHERE CUSTOMER360_ID IS NOT NULL AND TX_DATE IS NOT NULL`;

export const BASE_FEATURE_INPUTS: FeatureInputs = { days: `(${featureDaysSql()})`, products: `(${featureProductsSql()})` };

/**
 * SQL for the snapshot as of `asOf` (over the base_* tables unless `inputs` name other relations). The population is
 * every known customer (base_customers: registered by then) plus anyone who bought by then. Purchases on one day count
 * as one purchase occasion for the CLV inputs.
 */
export function featureSnapshotSql(asOf: string, inputs: FeatureInputs = BASE_FEATURE_INPUTS): string {
  const D = `DATE ${lit(asOf)}`;
  const inWin = (col: string, d: number) => `${col} > ${D} - INTERVAL ${d} DAY`;
  const money = (x: string) => `round(CAST(${x} AS DOUBLE), 6)`;
  return `
WITH fd AS (SELECT * FROM ${inputs.days} WHERE DAY <= ${D}),
days AS (SELECT CUSTOMER360_ID, DAY AS TX_DATE, ORDERS, AMOUNT FROM fd WHERE ORDERS > 0),
purchases AS (
  SELECT CUSTOMER360_ID, min(TX_DATE) AS FIRST_PURCHASE_DATE, max(TX_DATE) AS LAST_PURCHASE_DATE,
    count(*) AS PURCHASE_DAYS, sum(ORDERS) AS ORDERS, sum(AMOUNT) AS REVENUE,
    coalesce(CAST(sum(AMOUNT) - arg_min(AMOUNT, TX_DATE) AS DOUBLE) / nullif(count(*) - 1, 0), 0) AS MONETARY_REPEAT,
    ${windows('ORDERS', (d) => `coalesce(sum(ORDERS) FILTER (WHERE ${inWin('TX_DATE', d)}), 0)`)},
    ${windows('SPEND', (d) => `coalesce(sum(AMOUNT) FILTER (WHERE ${inWin('TX_DATE', d)}), 0)`)}
  FROM days GROUP BY 1),
lines AS (
  SELECT CUSTOMER360_ID, count(DISTINCT PRODUCT_ID) AS DISTINCT_PRODUCTS, count(DISTINCT CATEGORY) AS DISTINCT_CATEGORIES
  FROM ${inputs.products} WHERE DAY <= ${D} GROUP BY 1),
act AS (
  SELECT CUSTOMER360_ID,
    ${windows('SESSIONS', (d) => `coalesce(sum(SESSIONS) FILTER (WHERE ${inWin('DAY', d)}), 0)`)},
    ${windows('EVENTS', (d) => `coalesce(sum(EVENTS) FILTER (WHERE ${inWin('DAY', d)}), 0)`)},
    coalesce(sum(CART_ADDS) FILTER (WHERE ${inWin('DAY', 30)}), 0) AS CART_ADDS_30D,
    coalesce(sum(RETURNS) FILTER (WHERE ${inWin('DAY', 90)}), 0) AS RETURNS_90D
  FROM fd WHERE ${inWin('DAY', 90)} GROUP BY 1),
population AS (
  SELECT CUSTOMER360_ID, min(REGISTRATION_DATE) AS REGISTRATION_DATE FROM (
    SELECT CUSTOMER360_ID, REGISTRATION_DATE FROM base_customers WHERE REGISTRATION_DATE IS NULL OR REGISTRATION_DATE <= ${D}
    UNION ALL SELECT CUSTOMER360_ID, NULL FROM purchases) GROUP BY 1)
SELECT
  p.CUSTOMER360_ID,
  ${D} AS AS_OF_DATE,
  pu.CUSTOMER360_ID IS NOT NULL AS HAS_PURCHASED,
  pu.FIRST_PURCHASE_DATE, pu.LAST_PURCHASE_DATE,
  coalesce(pu.PURCHASE_DAYS, 0)::INTEGER AS PURCHASE_DAYS,
  coalesce(pu.ORDERS, 0)::INTEGER AS ORDERS,
  ${money('coalesce(pu.REVENUE, 0)')} AS REVENUE,
  round(coalesce(CAST(pu.REVENUE AS DOUBLE) / nullif(pu.ORDERS, 0), 0), 6) AS AVG_ORDER_VALUE,
  greatest(coalesce(pu.PURCHASE_DAYS, 0) - 1, 0)::INTEGER AS FREQUENCY,
  coalesce(date_diff('day', pu.FIRST_PURCHASE_DATE, pu.LAST_PURCHASE_DATE) / 7.0, 0) AS RECENCY_WEEKS,
  coalesce(date_diff('day', pu.FIRST_PURCHASE_DATE, ${D}) / 7.0, 0) AS T_WEEKS,
  round(coalesce(pu.MONETARY_REPEAT, 0), 6) AS MONETARY_REPEAT,
  date_diff('day', pu.LAST_PURCHASE_DATE, ${D}) AS DAYS_SINCE_LAST_PURCHASE,
  coalesce(date_diff('day', least(coalesce(p.REGISTRATION_DATE, pu.FIRST_PURCHASE_DATE), coalesce(pu.FIRST_PURCHASE_DATE, p.REGISTRATION_DATE)), ${D}), 0) AS TENURE_DAYS,
  ${WINDOWS.map((d) => `coalesce(pu.ORDERS_${d}D, 0)::INTEGER AS ORDERS_${d}D`).join(', ')},
  ${WINDOWS.map((d) => `${money(`coalesce(pu.SPEND_${d}D, 0)`)} AS SPEND_${d}D`).join(', ')},
  ${WINDOWS.map((d) => `coalesce(a.SESSIONS_${d}D, 0)::INTEGER AS SESSIONS_${d}D`).join(', ')},
  ${WINDOWS.map((d) => `coalesce(a.EVENTS_${d}D, 0)::INTEGER AS EVENTS_${d}D`).join(', ')},
  coalesce(a.CART_ADDS_30D, 0)::INTEGER AS CART_ADDS_30D,
  coalesce(a.RETURNS_90D, 0)::INTEGER AS RETURNS_90D,
  coalesce(l.DISTINCT_PRODUCTS, 0)::INTEGER AS DISTINCT_PRODUCTS,
  coalesce(l.DISTINCT_CATEGORIES, 0)::INTEGER AS DISTINCT_CATEGORIES
FROM population p
LEFT JOIN purchases pu USING (CUSTOMER360_ID)
LEFT JOIN lines l USING (CUSTOMER360_ID)
LEFT JOIN act a USING (CUSTOMER360_ID)
ORDER BY p.CUSTOMER360_ID`;
}

export interface Snapshot {
  asOf: string;
  /** FEATURE_SNAPSHOT_VERSION: definition version, as-of date and a hash of the content. */
  version: string;
  /** Engine table holding the snapshot. */
  table: string;
  rows: FeatureRow[];
}

/**
 * Builds the snapshot into table `fs_<asOf>` and returns its rows and version. `rows: false`: the rows stay in the
 * table only (`rows` is empty), for a caller that reads them in SQL (a million JS objects cost about a gigabyte).
 */
export async function buildSnapshot(engine: Engine, asOf: string, inputs?: FeatureInputs, o: { rows?: boolean } = {}): Promise<Snapshot> {
  const table = `fs_${asOf.replace(/-/g, '')}`;
  await engine.run(`CREATE OR REPLACE TABLE ${table} AS ${featureSnapshotSql(asOf, inputs)}`);
  // Content hash: order-independent and identical for identical rows, so an unchanged snapshot keeps its version.
  const h = await engine.scalar<string | null>(`SELECT lpad(format('{:x}', sum(hash(t)::HUGEINT) % 4294967296), 8, '0') FROM ${table} t`);
  const version = `fs${FEATURE_DEFINITION_VERSION}-${asOf.replace(/-/g, '')}-${h ?? '00000000'}`;
  await engine.run(`ALTER TABLE ${table} ADD COLUMN FEATURE_SNAPSHOT_VERSION VARCHAR DEFAULT ${lit(version)}`);
  const rows = o.rows === false ? [] : (await engine.all<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY CUSTOMER360_ID`)).map(toFeatureRow);
  return { asOf, version, table, rows };
}

export function toFeatureRow(r: Record<string, unknown>): FeatureRow {
  const out: Record<string, unknown> = { ...r };
  for (const k of NUMERIC_FEATURES) out[k] = Number(r[k] ?? 0);
  out.DAYS_SINCE_LAST_PURCHASE = r.DAYS_SINCE_LAST_PURCHASE == null ? null : Number(r.DAYS_SINCE_LAST_PURCHASE);
  return out as unknown as FeatureRow;
}

/** A purchaser's rhythm as of a date: the distribution of gaps between purchase days, and the recent trend. */
export interface Rhythm {
  N_GAPS: number;
  GAP_MEAN: number;
  GAP_SD: number;
  /** Purchase days in (D - 90, D] and (D - 180, D - 90]. */
  DAYS_90: number;
  DAYS_PREV_90: number;
}

export const RHYTHM_COLUMNS = ['N_GAPS', 'GAP_MEAN', 'GAP_SD', 'DAYS_90', 'DAYS_PREV_90'] as const satisfies readonly (keyof Rhythm)[];

/**
 * SQL (CUSTOMER360_ID + RHYTHM_COLUMNS) for purchasers as of `asOf`. The moments come from integer sums (exact, so
 * re-runs are identical whatever order DuckDB adds in).
 */
export function rhythmSql(asOf: string, purchaseDays = 'SELECT DISTINCT CUSTOMER360_ID, TX_DATE FROM base_tx'): string {
  const D = `DATE ${lit(asOf)}`;
  return `
WITH d AS (SELECT * FROM (${purchaseDays}) WHERE TX_DATE <= ${D}),
g AS (SELECT CUSTOMER360_ID, TX_DATE, date_diff('day', lag(TX_DATE) OVER (PARTITION BY CUSTOMER360_ID ORDER BY TX_DATE), TX_DATE) AS GAP FROM d),
m AS (SELECT CUSTOMER360_ID, count(GAP) AS N, sum(GAP) AS S, sum(GAP * GAP) AS SS,
    count(*) FILTER (WHERE TX_DATE > ${D} - INTERVAL 90 DAY) AS DAYS_90,
    count(*) FILTER (WHERE TX_DATE > ${D} - INTERVAL 180 DAY AND TX_DATE <= ${D} - INTERVAL 90 DAY) AS DAYS_PREV_90
  FROM g GROUP BY 1)
SELECT CUSTOMER360_ID, N::INTEGER AS N_GAPS, coalesce(S / nullif(N, 0), 0)::DOUBLE AS GAP_MEAN,
  coalesce(sqrt(greatest(SS / nullif(N, 0) - (S / nullif(N, 0)) ^ 2, 0)), 0)::DOUBLE AS GAP_SD,
  DAYS_90::INTEGER AS DAYS_90, DAYS_PREV_90::INTEGER AS DAYS_PREV_90
FROM m`;
}

/** Rhythm per purchaser as of `asOf` (`purchaseDays`: distinct CUSTOMER360_ID, TX_DATE of clean purchases; default base_tx's). */
export async function rhythmAsOf(engine: Engine, asOf: string, purchaseDays?: string): Promise<Map<string, Rhythm>> {
  const rows = await engine.all<Record<string, unknown>>(rhythmSql(asOf, purchaseDays));
  return new Map(rows.map((r) => [String(r.CUSTOMER360_ID), toRhythm(r)]));
}

export function toRhythm(r: Record<string, unknown>): Rhythm {
  return { N_GAPS: Number(r.N_GAPS ?? 0), GAP_MEAN: Number(r.GAP_MEAN ?? 0), GAP_SD: Number(r.GAP_SD ?? 0), DAYS_90: Number(r.DAYS_90 ?? 0), DAYS_PREV_90: Number(r.DAYS_PREV_90 ?? 0) };
}


/** Customers with a purchase in (from, to]: churn labels are "not in this set" for a snapshot at `from`. */
export async function buyersBetween(engine: Engine, from: string, to: string): Promise<Set<string>> {
  const rows = await engine.all<{ id: string }>(
    `SELECT DISTINCT CUSTOMER360_ID AS id FROM base_tx WHERE TX_DATE > DATE ${lit(from)} AND TX_DATE <= DATE ${lit(to)}`,
  );
  return new Set(rows.map((r) => r.id));
}
