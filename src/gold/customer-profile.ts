// The Customer 360 profile (DIM_CUSTOMER): one row per CUSTOMER360_ID known by the as-of date, with the golden record
// (survivorship), every identifier of the person, lifetime metrics, RFM, 7/30/90-day windows, engagement score,
// preferred channel and device, service metrics and third-party demographics and sentiment.
import type { PiiClass } from '../../schemas/contract.ts';
import { getContract } from '../../schemas/index.ts';
import type { ColumnSpec } from '../catalogue/dataset.ts';
import { T, type LogicalType } from '../warehouse/types.ts';
import { AS_OF, ID, WINDOWS, gold, type GoldParams } from './dataset.ts';
import { rfmSegmentSql, scoreSql } from './rfm.ts';
import { ADDRESS_COLUMNS, SURVIVING_ATTRIBUTES, survivingColumnsSql, survivorshipCandidatesSql } from './survivorship.ts';
import { dateLit } from './paths.ts';
import { CONSENT_COLUMNS } from '../privacy/consent.ts';

/** days between the event's date and the as-of date (0 = the as-of day itself). */
const daysAgo = (ts: string, asOf: string) => `date_diff('day', CAST(${ts} AS DATE), ${dateLit(asOf)})`;

/** The customer_daily metrics summed over the 7/30/90-day windows (ORDERS_7D, ...). */
const WINDOW_METRICS = ['ORDERS', 'SPEND', 'SESSIONS', 'EVENTS', 'OPENS', 'CLICKS', 'TICKETS'] as const;

/**
 * Engagement score 0..100 over the last 30 days: sessions (40%), campaign clicks (30%), opens (20%) and orders (10%),
 * each saturating at a level that marks a highly engaged customer (10 sessions, 5 clicks, 10 opens, 3 orders).
 */
export const ENGAGEMENT_SCORE_SQL = `ROUND(100 * (
    0.4 * LEAST(1, COALESCE(SESSIONS_30D, 0) / 10.0)
  + 0.3 * LEAST(1, COALESCE(CLICKS_30D, 0) / 5.0)
  + 0.2 * LEAST(1, COALESCE(OPENS_30D, 0) / 10.0)
  + 0.1 * LEAST(1, COALESCE(ORDERS_30D, 0) / 3.0)), 2)`;

export function customerProfileSql(p: GoldParams): string {
  const d = dateLit(p.asOf);
  return `WITH
golden AS (
  SELECT CUSTOMER360_ID,
    ${survivingColumnsSql().join(',\n    ')},
    min(REGISTRATION_DATE) AS REGISTRATION_DATE,
    max(LAST_LOGIN_DATE) AS LAST_LOGIN_DATE,
    string_agg(DISTINCT _source_system, ',' ORDER BY _source_system) AS SOURCE_SYSTEMS,
    count(*) AS SOURCE_RECORD_COUNT
  FROM (${survivorshipCandidatesSql()}) c
  GROUP BY CUSTOMER360_ID
),
ids AS (
  SELECT CUSTOMER360_ID,
    string_agg(SOURCE_SYSTEM || ':' || CUSTOMER_ID, '|' ORDER BY SOURCE_SYSTEM, CUSTOMER_ID) AS IDENTIFIERS,
    count(*) AS IDENTIFIER_COUNT
  FROM s_crosswalk GROUP BY CUSTOMER360_ID
),
-- lifetime totals, service and sentiment from each person's totals over every day of the per-customer-day aggregate
-- (customer_lifetime, kept with it: lifetime.ts); the 7/30/90-day windows from its last 90 days only
lifetime AS (
  SELECT CUSTOMER360_ID,
    CAST(ORDERS AS BIGINT) AS TOTAL_ORDERS, CAST(SPEND AS DECIMAL(18,2)) AS TOTAL_REVENUE,
    FIRST_PURCHASE_DATE AS FIRST_PURCHASE_AT, LAST_PURCHASE_DATE AS LAST_PURCHASE_AT,
    CAST(RETURNS AS BIGINT) AS RETURN_COUNT,
    CAST(LOYALTY_POINTS_EARNED AS BIGINT) AS LOYALTY_POINTS_EARNED, CAST(LOYALTY_POINTS_REDEEMED AS BIGINT) AS LOYALTY_POINTS_REDEEMED,
    CAST(SESSIONS AS BIGINT) AS TOTAL_SESSIONS, CAST(EVENTS AS BIGINT) AS TOTAL_EVENTS,
    -- averages as sums over counts (the aggregate keeps both, so the days add up exactly)
    CAST(TICKETS AS BIGINT) AS TOTAL_TICKETS, CAST(OPEN_TICKETS AS BIGINT) AS OPEN_TICKETS,
    ROUND(CAST(TICKET_SATISFACTION_SUM AS DOUBLE) / NULLIF(TICKET_SATISFACTION_N, 0), 2) AS AVG_TICKET_SATISFACTION,
    ROUND(CAST(RESOLUTION_MINUTES_SUM AS DOUBLE) / NULLIF(RESOLUTION_N, 0), 1) AS AVG_RESOLUTION_MINUTES,
    CAST(INTERACTIONS AS BIGINT) AS SERVICE_INTERACTIONS,
    ROUND(CAST(INTERACTION_SENTIMENT_SUM AS DOUBLE) / NULLIF(INTERACTION_SENTIMENT_N, 0), 3) AS AVG_SERVICE_SENTIMENT,
    ROUND(CAST(INTERACTION_SATISFACTION_SUM AS DOUBLE) / NULLIF(INTERACTION_SATISFACTION_N, 0), 2) AS AVG_INTERACTION_SATISFACTION,
    ROUND(CAST(EXTERNAL_SENTIMENT_SUM AS DOUBLE) / NULLIF(EXTERNAL_SENTIMENT_N, 0), 3) AS EXTERNAL_SENTIMENT_SCORE,
    CAST(EXTERNAL_MENTIONS AS BIGINT) AS EXTERNAL_MENTIONS
  FROM g_customer_lifetime
),
-- (each window's sums from per-person sums of three spans of days ago, 0-6, 7-29 and 30-89: a day's metrics are zero
-- when it had none of that kind, so summing the spans a window covers gives its sums)
spans AS (
  SELECT CUSTOMER360_ID, CASE WHEN ${daysAgo('ACTIVITY_DATE', p.asOf)} < ${WINDOWS[0]} THEN 0 WHEN ${daysAgo('ACTIVITY_DATE', p.asOf)} < ${WINDOWS[1]} THEN 1 ELSE 2 END AS span,
    ${WINDOW_METRICS.map((m) => `sum(${m}) AS ${m}`).join(', ')}
  FROM g_customer_daily_recent WHERE ${daysAgo('ACTIVITY_DATE', p.asOf)} < ${WINDOWS[2]} GROUP BY ALL
),
windows AS (
  SELECT CUSTOMER360_ID,
    ${WINDOWS.flatMap((n, i) => WINDOW_METRICS.map((m) => `CAST(COALESCE(sum(${m}) FILTER (WHERE span <= ${i}), 0) AS ${m === 'SPEND' ? 'DECIMAL(18,2)' : 'BIGINT'}) AS ${m}_${n}D`)).join(',\n    ')}
  FROM spans GROUP BY CUSTOMER360_ID
),
daily AS (SELECT * FROM lifetime LEFT JOIN windows USING (CUSTOMER360_ID)),
-- preferred channel (most purchases) and device (most events) from each person's totals per channel and device over
-- every day (customer_touchpoint_lifetime); ties most recent
touch AS MATERIALIZED (
  SELECT CUSTOMER360_ID, CHANNEL_VALUE, starts_with(TOUCHPOINT_KEY, 'COMMERCE_') AS commerce,
    sum(PURCHASES) FILTER (WHERE PURCHASES > 0) AS purchases, max(LAST_PURCHASE_AT) FILTER (WHERE PURCHASES > 0) AS last_purchase_at,
    sum(TOUCHES) AS touches, max(LAST_TOUCH_AT) AS last_touch_at
  FROM g_customer_touchpoint_lifetime
  GROUP BY ALL
),
channel AS (
  SELECT CUSTOMER360_ID, first(CHANNEL_VALUE ORDER BY purchases DESC, last_purchase_at DESC, CHANNEL_VALUE) AS PREFERRED_PURCHASE_CHANNEL
  FROM touch WHERE commerce AND purchases IS NOT NULL GROUP BY CUSTOMER360_ID
),
device AS (
  SELECT CUSTOMER360_ID, first(CHANNEL_VALUE ORDER BY touches DESC, last_touch_at DESC, CHANNEL_VALUE) AS PREFERRED_DEVICE
  FROM touch WHERE NOT commerce GROUP BY CUSTOMER360_ID
),
ext AS (
  SELECT CUSTOMER360_ID,
    first(AGE_RANGE ORDER BY PROFILE_DATE DESC, PROFILE_ID) FILTER (WHERE AGE_RANGE IS NOT NULL) AS AGE_RANGE,
    first(EDUCATION_LEVEL ORDER BY PROFILE_DATE DESC, PROFILE_ID) FILTER (WHERE EDUCATION_LEVEL IS NOT NULL) AS EDUCATION_LEVEL,
    first(OCCUPATION ORDER BY PROFILE_DATE DESC, PROFILE_ID) FILTER (WHERE OCCUPATION IS NOT NULL) AS OCCUPATION,
    first(INCOME_RANGE ORDER BY PROFILE_DATE DESC, PROFILE_ID) FILTER (WHERE INCOME_RANGE IS NOT NULL) AS INCOME_RANGE,
    first(INTERESTS ORDER BY PROFILE_DATE DESC, PROFILE_ID) FILTER (WHERE INTERESTS IS NOT NULL) AS INTERESTS,
    first(SOCIAL_MEDIA_ACTIVITY ORDER BY PROFILE_DATE DESC, PROFILE_ID) FILTER (WHERE SOCIAL_MEDIA_ACTIVITY IS NOT NULL) AS SOCIAL_MEDIA_ACTIVITY,
    CAST(max(INFLUENCE_SCORE) AS DOUBLE) AS INFLUENCE_SCORE
  FROM s_ext_profiles WHERE CUSTOMER360_ID IS NOT NULL GROUP BY CUSTOMER360_ID
),
base AS (
  SELECT u.CUSTOMER360_ID, g.* EXCLUDE (CUSTOMER360_ID), ids.IDENTIFIERS, COALESCE(ids.IDENTIFIER_COUNT, 0) AS IDENTIFIER_COUNT,
    COALESCE(tx.TOTAL_ORDERS, 0) AS TOTAL_ORDERS, COALESCE(tx.TOTAL_REVENUE, 0) AS TOTAL_REVENUE,
    CAST(tx.FIRST_PURCHASE_AT AS DATE) AS FIRST_PURCHASE_DATE, CAST(tx.LAST_PURCHASE_AT AS DATE) AS LAST_PURCHASE_DATE,
    date_diff('day', CAST(tx.LAST_PURCHASE_AT AS DATE), ${d}) AS DAYS_SINCE_LAST_PURCHASE,
    COALESCE(tx.RETURN_COUNT, 0) AS RETURN_COUNT,
    COALESCE(tx.LOYALTY_POINTS_EARNED, 0) AS LOYALTY_POINTS_EARNED, COALESCE(tx.LOYALTY_POINTS_REDEEMED, 0) AS LOYALTY_POINTS_REDEEMED,
    ${WINDOWS.map((n) => `COALESCE(tx.ORDERS_${n}D, 0) AS ORDERS_${n}D, COALESCE(tx.SPEND_${n}D, 0) AS SPEND_${n}D`).join(', ')},
    ${WINDOWS.map((n) => `COALESCE(tx.SESSIONS_${n}D, 0) AS SESSIONS_${n}D, COALESCE(tx.EVENTS_${n}D, 0) AS EVENTS_${n}D`).join(', ')},
    ${WINDOWS.map((n) => `COALESCE(tx.OPENS_${n}D, 0) AS OPENS_${n}D, COALESCE(tx.CLICKS_${n}D, 0) AS CLICKS_${n}D, COALESCE(tx.TICKETS_${n}D, 0) AS TICKETS_${n}D`).join(', ')},
    COALESCE(tx.TOTAL_SESSIONS, 0) AS TOTAL_SESSIONS, COALESCE(tx.TOTAL_EVENTS, 0) AS TOTAL_EVENTS,
    channel.PREFERRED_PURCHASE_CHANNEL, device.PREFERRED_DEVICE,
    COALESCE(tx.TOTAL_TICKETS, 0) AS TOTAL_TICKETS, COALESCE(tx.OPEN_TICKETS, 0) AS OPEN_TICKETS,
    tx.AVG_TICKET_SATISFACTION, tx.AVG_RESOLUTION_MINUTES,
    COALESCE(tx.SERVICE_INTERACTIONS, 0) AS SERVICE_INTERACTIONS, tx.AVG_SERVICE_SENTIMENT, tx.AVG_INTERACTION_SATISFACTION,
    ext.AGE_RANGE, ext.EDUCATION_LEVEL, ext.OCCUPATION, ext.INCOME_RANGE, ext.INTERESTS, ext.SOCIAL_MEDIA_ACTIVITY, ext.INFLUENCE_SCORE,
    tx.EXTERNAL_SENTIMENT_SCORE, COALESCE(tx.EXTERNAL_MENTIONS, 0) AS EXTERNAL_MENTIONS,
    ${CONSENT_COLUMNS.map(([c]) => `cs.${c}`).join(', ')}
  FROM s_universe u
  LEFT JOIN golden g USING (CUSTOMER360_ID)
  LEFT JOIN ids USING (CUSTOMER360_ID)
  LEFT JOIN daily tx USING (CUSTOMER360_ID)
  LEFT JOIN channel USING (CUSTOMER360_ID)
  LEFT JOIN device USING (CUSTOMER360_ID)
  LEFT JOIN ext USING (CUSTOMER360_ID)
  LEFT JOIN g_customer_consent cs USING (CUSTOMER360_ID)
),
purchasers AS (
  SELECT CUSTOMER360_ID,
    ${scoreSql('percent_rank() OVER (ORDER BY DAYS_SINCE_LAST_PURCHASE DESC)')} AS RFM_RECENCY_SCORE,
    ${scoreSql('percent_rank() OVER (ORDER BY TOTAL_ORDERS)')} AS RFM_FREQUENCY_SCORE,
    ${scoreSql('percent_rank() OVER (ORDER BY TOTAL_REVENUE)')} AS RFM_MONETARY_SCORE
  FROM base WHERE TOTAL_ORDERS > 0
)
SELECT b.*,
  CASE WHEN b.TOTAL_ORDERS > 0 THEN CAST(ROUND(b.TOTAL_REVENUE / b.TOTAL_ORDERS, 2) AS DECIMAL(18,2)) END AS AVG_ORDER_VALUE,
  CASE WHEN b.TOTAL_ORDERS > 0 THEN ROUND(b.RETURN_COUNT / b.TOTAL_ORDERS, 4) END AS RETURN_RATE,
  r.RFM_RECENCY_SCORE, r.RFM_FREQUENCY_SCORE, r.RFM_MONETARY_SCORE,
  CAST(r.RFM_RECENCY_SCORE AS VARCHAR) || CAST(r.RFM_FREQUENCY_SCORE AS VARCHAR) || CAST(r.RFM_MONETARY_SCORE AS VARCHAR) AS RFM_SCORE,
  ${rfmSegmentSql('r.RFM_RECENCY_SCORE', 'r.RFM_FREQUENCY_SCORE', 'r.RFM_MONETARY_SCORE')} AS RFM_SEGMENT,
  ${ENGAGEMENT_SCORE_SQL.replaceAll(/\b(SESSIONS_30D|CLICKS_30D|OPENS_30D|ORDERS_30D)\b/g, 'b.$1')} AS ENGAGEMENT_SCORE,
  ${d} AS AS_OF_DATE
FROM base b LEFT JOIN purchasers r USING (CUSTOMER360_ID)
ORDER BY b.CUSTOMER360_ID`;
}

const contractPii = (table: string, column: string): PiiClass | undefined => getContract(table).columns.find((c) => c.name === column)?.pii;
const asType = (t: string): LogicalType => ({ VARCHAR: T.varchar, INTEGER: T.integer, DATE: T.date } as Record<string, LogicalType>)[t] ?? T.varchar;
const RULE_TEXT = { trust: 'most trusted source', recent: 'most recent valid value', complete: 'most complete record' };

/** The golden-record columns: each surviving attribute and the source system it came from. */
function survivingColumns(): ColumnSpec[] {
  const out: ColumnSpec[] = [];
  for (const a of SURVIVING_ATTRIBUTES) {
    out.push([a.name, asType(a.type), `Golden ${a.name} (survivorship: ${RULE_TEXT[a.rule]})`, contractPii('CUSTOMERS', a.name)]);
    if (!a.block) out.push([`${a.name}_SOURCE`, T.varchar, `Source system of the surviving ${a.name}`]);
    else if (a.name === ADDRESS_COLUMNS[0]) out.push([`${a.block}_SOURCE`, T.varchar, `Source system of the surviving ${a.block.toLowerCase()} block`]);
  }
  return out;
}

const thirdParty = (name: string, comment: string): ColumnSpec => [name, T.varchar, comment, contractPii('EXTERNAL_CUSTOMER_PROFILES', name)];

export const customerProfile = gold({
  name: 'customer_profile',
  description: 'Customer 360 golden record with lifetime, RFM, windowed, engagement, service and third-party features',
  grain: 'one row per CUSTOMER360_ID known by the as-of date (a customer record registered by then, or a transaction)',
  job: 'gold-customer',
  primaryKey: ['CUSTOMER360_ID'],
  sql: customerProfileSql,
  columns: [
    ID,
    ...survivingColumns(),
    ['REGISTRATION_DATE', T.date, 'Earliest registration date over the source records'],
    ['LAST_LOGIN_DATE', T.date, 'Latest login date over the source records'],
    ['SOURCE_SYSTEMS', T.varchar, 'Source systems holding a record of the person (comma-separated)'],
    ['SOURCE_RECORD_COUNT', T.bigint, 'Number of source customer records merged into the person'],
    ['IDENTIFIERS', T.varchar, 'All identifiers of the person as SOURCE_SYSTEM:CUSTOMER_ID, |-separated'],
    ['IDENTIFIER_COUNT', T.bigint, 'Number of source identifiers of the person'],
    ['TOTAL_ORDERS', T.bigint, 'Count of COMPLETED PURCHASE transactions'],
    ['TOTAL_REVENUE', T.money, 'Sum of TOTAL_AMOUNT of COMPLETED PURCHASE transactions'],
    ['FIRST_PURCHASE_DATE', T.date, 'Date of the first completed purchase'],
    ['LAST_PURCHASE_DATE', T.date, 'Date of the latest completed purchase'],
    ['DAYS_SINCE_LAST_PURCHASE', T.bigint, 'Days from the latest completed purchase to the as-of date'],
    ['RETURN_COUNT', T.bigint, 'Completed RETURN and REFUND transactions'],
    ['LOYALTY_POINTS_EARNED', T.bigint, 'Loyalty points earned on completed transactions'],
    ['LOYALTY_POINTS_REDEEMED', T.bigint, 'Loyalty points redeemed on completed transactions'],
    ...WINDOWS.flatMap((n): ColumnSpec[] => [
      [`ORDERS_${n}D`, T.bigint, `Completed purchases in the ${n} days up to the as-of date`],
      [`SPEND_${n}D`, T.money, `Completed purchase amount in the ${n} days up to the as-of date`],
    ]),
    ...WINDOWS.flatMap((n): ColumnSpec[] => [
      [`SESSIONS_${n}D`, T.bigint, `Sessions started in the ${n} days up to the as-of date`],
      [`EVENTS_${n}D`, T.bigint, `Behavioural events in the ${n} days up to the as-of date`],
    ]),
    ...WINDOWS.flatMap((n): ColumnSpec[] => [
      [`OPENS_${n}D`, T.bigint, `Campaign messages opened in the ${n} days up to the as-of date`],
      [`CLICKS_${n}D`, T.bigint, `Campaign messages clicked in the ${n} days up to the as-of date`],
      [`TICKETS_${n}D`, T.bigint, `Service tickets created in the ${n} days up to the as-of date`],
    ]),
    ['TOTAL_SESSIONS', T.bigint, 'Sessions up to the as-of date'],
    ['TOTAL_EVENTS', T.bigint, 'Behavioural events up to the as-of date'],
    ['PREFERRED_PURCHASE_CHANNEL', T.varchar, 'Channel with most completed purchases (ties: most recent)'],
    ['PREFERRED_DEVICE', T.varchar, 'Device type with most behavioural events (ties: most recent)'],
    ['TOTAL_TICKETS', T.bigint, 'Service tickets up to the as-of date'],
    ['OPEN_TICKETS', T.bigint, 'Tickets OPEN or IN_PROGRESS'],
    ['AVG_TICKET_SATISFACTION', T.double, 'Average ticket CUSTOMER_SATISFACTION (1-5)'],
    ['AVG_RESOLUTION_MINUTES', T.double, 'Average TOTAL_RESOLUTION_TIME of resolved or closed tickets, minutes'],
    ['SERVICE_INTERACTIONS', T.bigint, 'Service interactions up to the as-of date'],
    ['AVG_SERVICE_SENTIMENT', T.double, 'Average SENTIMENT_SCORE of service interactions (-1..1)'],
    ['AVG_INTERACTION_SATISFACTION', T.double, 'Average SATISFACTION_SCORE of service interactions (1-5)'],
    thirdParty('AGE_RANGE', 'Age range from the latest third-party profile holding one'),
    thirdParty('EDUCATION_LEVEL', 'Education level from the latest third-party profile holding one'),
    thirdParty('OCCUPATION', 'Occupation from the latest third-party profile holding one'),
    thirdParty('INCOME_RANGE', 'Income range from the latest third-party profile holding one'),
    ['INTERESTS', T.varchar, 'Interests from the latest third-party profile holding them'],
    ['SOCIAL_MEDIA_ACTIVITY', T.varchar, 'Social media activity level (third party)'],
    ['INFLUENCE_SCORE', T.double, 'Highest third-party influence score (0..1)'],
    ['EXTERNAL_SENTIMENT_SCORE', T.double, 'Average third-party sentiment score (-1..1)'],
    ['EXTERNAL_MENTIONS', T.bigint, 'Third-party mentions'],
    ...CONSENT_COLUMNS,
    ['AVG_ORDER_VALUE', T.money, 'TOTAL_REVENUE / TOTAL_ORDERS'],
    ['RETURN_RATE', T.double, 'RETURN_COUNT / TOTAL_ORDERS'],
    ['RFM_RECENCY_SCORE', T.integer, 'Recency score 1-5 among purchasers (5 = most recent)'],
    ['RFM_FREQUENCY_SCORE', T.integer, 'Frequency score 1-5 among purchasers (5 = most orders)'],
    ['RFM_MONETARY_SCORE', T.integer, 'Monetary score 1-5 among purchasers (5 = highest revenue)'],
    ['RFM_SCORE', T.varchar, 'R, F and M scores as three digits'],
    ['RFM_SEGMENT', T.varchar, 'Named RFM segment (Champions, Loyal Customers, ..., No Purchases)'],
    ['ENGAGEMENT_SCORE', T.double, 'Engagement 0-100 over 30 days: sessions 40%, clicks 30%, opens 20%, orders 10%'],
    AS_OF,
  ],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'DIM_CUSTOMER', strategy: 'snapshot', clusterBy: ['CUSTOMER360_ID'],
    comment: 'Customer 360 profile: one row per person (CUSTOMER360_ID) with golden record, lifetime, RFM, windowed, service and third-party features',
    // The seed's CUSTOMER_360 table: the profile with the same as-of date's risk scores and model segment.
    views: [{
      schema: 'CUSTOMER_360', name: 'CUSTOMER_360',
      comment: 'Customer 360: the profile (DIM_CUSTOMER) with churn risk, CLV and segment of the same as-of date, one row per person',
      join: [
        { dataset: 'risk_scores', on: ['CUSTOMER360_ID', 'AS_OF_DATE'], columns: ['CHURN_RISK', 'PREDICTED_PURCHASES', 'PREDICTED_CLV', 'P_ALIVE'] },
        { dataset: 'customer_segments', on: ['CUSTOMER360_ID', 'AS_OF_DATE'], columns: ['SEGMENT_ID', 'SEGMENT_LABEL'] },
      ],
    }],
  },
});
