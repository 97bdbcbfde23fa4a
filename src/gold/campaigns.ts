// Engagement and campaigns: per campaign and channel the people reached at each stage, conversions attributed by
// last touch and linearly within a window, and ROI against BUDGET and SPENT_AMOUNT.
//
// Stages are cumulative over people: a click implies an open, an open a delivery, a delivery a send, so a person
// counts at every stage up to the furthest action recorded for them (robust to sources that log one row per action
// and to those that log only the furthest action).
// Attribution: a conversion is a completed purchase; a touch is an OPENED or CLICKED engagement of the same person
// for a campaign, at or before the purchase and less than the window (days) before it. Last touch gives the whole
// conversion to the latest touch (ties: CLICKED over OPENED, then the greater ENGAGEMENT_ID); linear splits it equally
// over all touches in the window.
// Counts: OPENED is the people touched (opened or clicked), CONVERTED the people with a last-touch conversion, so
// CONVERTED <= OPENED; CONVERSIONS_* count purchases (a person may buy twice). CONVERTED and CONVERSIONS_LAST_TOUCH
// may both exceed CLICKED: a person who only opened is touched.
import type { ComputeParams } from '../catalogue/dataset.ts';
import { T } from '../warehouse/types.ts';
import { byDay } from './day-partitioned.ts';
import { AS_OF, ID, IS_PURCHASE, gold } from './dataset.ts';
import { dateLit } from './paths.ts';

// Maintained by conversion day (day-partitioned.ts): a conversion's rows depend on its purchase and its person's
// touches of the window before it, so a changed engagement day (a late or corrected touch) recomputes the
// conversions of that day and the window's days after it, and nothing else.
export const campaignAttribution = byDay(gold({
  name: 'campaign_attribution',
  description: 'Conversion credit per campaign touch, by model (LAST_TOUCH, LINEAR)',
  grain: 'one row per (TRANSACTION_ID, MODEL, ENGAGEMENT_ID) credited',
  job: 'gold-campaigns',
  retention: { column: 'TOUCH_AT', from: ['CUSTOMER_ENGAGEMENT_EVENTS', 'CUSTOMER_TRANSACTIONS'] },
  primaryKey: ['TRANSACTION_ID', 'MODEL', 'ENGAGEMENT_ID'],
  columns: [
    ['TRANSACTION_ID', T.varchar, 'Converting purchase'], ID, ['CONVERSION_AT', T.timestamp, 'Purchase time (UTC)'], ['CONVERSION_AMOUNT', T.double, 'Purchase amount'],
    ['MODEL', T.varchar, 'LAST_TOUCH or LINEAR'], ['ENGAGEMENT_ID', T.varchar, 'Credited touch'], ['CAMPAIGN_ID', T.varchar, 'Campaign of the touch'],
    ['CHANNEL', T.varchar, 'Engagement type of the touch'], ['TOUCH_AT', T.timestamp, 'Touch time (UTC)'], ['CREDIT', T.double, 'Share of the conversion'],
    ['REVENUE_CREDIT', T.double, 'CREDIT x CONVERSION_AMOUNT'], ['WINDOW_DAYS', T.integer, 'Attribution window in days'],
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'FACT_CAMPAIGN_ATTRIBUTION', strategy: 'snapshot', clusterBy: ['CAMPAIGN_ID'],
    comment: 'Conversion credit per campaign touch and attribution model (LAST_TOUCH, LINEAR)',
  },
  keep: true,
  sql: (p) => {
    const w = windowDays(p);
    return `WITH conv AS (
  SELECT TRANSACTION_ID, CUSTOMER360_ID, TRANSACTION_DATE AS CONVERSION_AT, CAST(TOTAL_AMOUNT AS DOUBLE) AS AMOUNT
  FROM s_transactions WHERE ${IS_PURCHASE} AND CUSTOMER360_ID IS NOT NULL
),
touch AS (
  SELECT ENGAGEMENT_ID, CUSTOMER360_ID, CAMPAIGN_ID, ENGAGEMENT_TYPE AS CHANNEL, ENGAGEMENT_DATE AS TOUCHED_AT, ENGAGEMENT_ACTION
  FROM s_engagement
  WHERE ENGAGEMENT_ACTION IN ('OPENED', 'CLICKED') AND CAMPAIGN_ID IS NOT NULL AND CUSTOMER360_ID IS NOT NULL
),
pairs AS (
  SELECT c.*, t.ENGAGEMENT_ID, t.CAMPAIGN_ID, t.CHANNEL, t.TOUCHED_AT,
    row_number() OVER (PARTITION BY c.TRANSACTION_ID ORDER BY t.TOUCHED_AT DESC, t.ENGAGEMENT_ACTION = 'CLICKED' DESC, t.ENGAGEMENT_ID DESC) AS recency_rank,
    count(*) OVER (PARTITION BY c.TRANSACTION_ID) AS touches
  FROM conv c JOIN touch t
    ON t.CUSTOMER360_ID = c.CUSTOMER360_ID AND t.TOUCHED_AT <= c.CONVERSION_AT AND t.TOUCHED_AT > c.CONVERSION_AT - INTERVAL ${w} DAY
)
SELECT TRANSACTION_ID, CUSTOMER360_ID, CONVERSION_AT, AMOUNT AS CONVERSION_AMOUNT, 'LAST_TOUCH' AS MODEL,
  ENGAGEMENT_ID, CAMPAIGN_ID, CHANNEL, TOUCHED_AT AS TOUCH_AT, 1.0 AS CREDIT, AMOUNT AS REVENUE_CREDIT, ${w} AS WINDOW_DAYS
FROM pairs WHERE recency_rank = 1
UNION ALL
SELECT TRANSACTION_ID, CUSTOMER360_ID, CONVERSION_AT, AMOUNT, 'LINEAR', ENGAGEMENT_ID, CAMPAIGN_ID, CHANNEL, TOUCHED_AT,
  1.0 / touches, AMOUNT / touches, ${w}
FROM pairs
ORDER BY TRANSACTION_ID, MODEL, ENGAGEMENT_ID`;
  },
}), { dayColumn: 'CONVERSION_AT', lookback: (p) => ({ engagement: windowDays(p) }) });

/** The attribution window in whole days (a touch earns credit when less than this many days before the purchase). */
function windowDays(p: ComputeParams): number {
  const w = Math.trunc(p.attributionWindowDays);
  if (!(w > 0)) throw new Error(`Attribution window must be a positive number of days, got ${p.attributionWindowDays}`);
  return w;
}

export const campaignChannelPerformance = gold({
  name: 'campaign_channel_performance',
  description: 'Per campaign and channel: people sent, delivered, opened, clicked, converted, rates and attributed revenue',
  grain: 'one row per (CAMPAIGN_ID, CHANNEL)',
  job: 'gold-campaigns',
  primaryKey: ['CAMPAIGN_ID', 'CHANNEL'],
  columns: [
    ['CAMPAIGN_ID', T.varchar, 'Campaign'], ['CHANNEL', T.varchar, 'Engagement type'], ['CAMPAIGN_NAME', T.varchar, 'Campaign name'],
    ['SENT', T.bigint, 'People sent at least'], ['DELIVERED', T.bigint, 'People delivered at least'], ['OPENED', T.bigint, 'People touched: opened or clicked (the touches attribution credits)'],
    ['CLICKED', T.bigint, 'People who clicked'], ['UNSUBSCRIBED', T.bigint, 'People who unsubscribed'], ['CONVERTED', T.bigint, 'People with a purchase credited here by last touch (at most OPENED; may exceed CLICKED)'],
    ['DELIVERY_RATE', T.double, 'DELIVERED / SENT'], ['OPEN_RATE', T.double, 'OPENED / DELIVERED'], ['CLICK_TO_OPEN_RATE', T.double, 'CLICKED / OPENED'],
    ['CLICK_RATE', T.double, 'CLICKED / DELIVERED'], ['CONVERSION_RATE', T.double, 'CONVERTED / SENT'],
    ['CONVERSIONS_LAST_TOUCH', T.bigint, 'Purchases credited by last touch (a person may convert more than once)'], ['REVENUE_LAST_TOUCH', T.double, 'Revenue credited by last touch'],
    ['CONVERSIONS_LINEAR', T.double, 'Conversions credited linearly'], ['REVENUE_LINEAR', T.double, 'Revenue credited linearly'], AS_OF,
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'AGG_CAMPAIGN_CHANNEL', strategy: 'snapshot', clusterBy: ['CAMPAIGN_ID'],
    comment: 'Per campaign and channel: people sent, delivered, opened, clicked and converted, rates and attributed revenue',
  },
  sql: (p) => `WITH stage AS (
  SELECT CAMPAIGN_ID, ENGAGEMENT_TYPE AS CHANNEL, CUSTOMER360_ID,
    max(CASE ENGAGEMENT_ACTION WHEN 'CLICKED' THEN 4 WHEN 'OPENED' THEN 3 WHEN 'DELIVERED' THEN 2 WHEN 'UNSUBSCRIBED' THEN 2 WHEN 'SENT' THEN 1 ELSE 0 END) AS furthest,
    bool_or(ENGAGEMENT_ACTION = 'UNSUBSCRIBED') AS unsubscribed
  FROM s_engagement WHERE CAMPAIGN_ID IS NOT NULL AND CUSTOMER360_ID IS NOT NULL GROUP BY 1, 2, 3
),
funnel AS (
  SELECT CAMPAIGN_ID, CHANNEL, count(*) FILTER (WHERE furthest >= 1) AS SENT, count(*) FILTER (WHERE furthest >= 2) AS DELIVERED,
    count(*) FILTER (WHERE furthest >= 3) AS OPENED, count(*) FILTER (WHERE furthest >= 4) AS CLICKED,
    count(*) FILTER (WHERE unsubscribed) AS UNSUBSCRIBED
  FROM stage GROUP BY 1, 2
),
credit AS (
  SELECT CAMPAIGN_ID, CHANNEL,
    count(DISTINCT CUSTOMER360_ID) FILTER (WHERE MODEL = 'LAST_TOUCH') AS CONVERTED,
    count(*) FILTER (WHERE MODEL = 'LAST_TOUCH') AS CONVERSIONS_LAST_TOUCH,
    COALESCE(sum(REVENUE_CREDIT) FILTER (WHERE MODEL = 'LAST_TOUCH'), 0) AS REVENUE_LAST_TOUCH,
    COALESCE(sum(CREDIT) FILTER (WHERE MODEL = 'LINEAR'), 0) AS CONVERSIONS_LINEAR,
    COALESCE(sum(REVENUE_CREDIT) FILTER (WHERE MODEL = 'LINEAR'), 0) AS REVENUE_LINEAR
  FROM g_campaign_attribution GROUP BY 1, 2
)
SELECT COALESCE(f.CAMPAIGN_ID, c.CAMPAIGN_ID) AS CAMPAIGN_ID, COALESCE(f.CHANNEL, c.CHANNEL) AS CHANNEL, m.CAMPAIGN_NAME,
  COALESCE(f.SENT, 0) AS SENT, COALESCE(f.DELIVERED, 0) AS DELIVERED, COALESCE(f.OPENED, 0) AS OPENED,
  COALESCE(f.CLICKED, 0) AS CLICKED, COALESCE(f.UNSUBSCRIBED, 0) AS UNSUBSCRIBED, COALESCE(c.CONVERTED, 0) AS CONVERTED,
  ROUND(f.DELIVERED / NULLIF(f.SENT, 0), 4) AS DELIVERY_RATE, ROUND(f.OPENED / NULLIF(f.DELIVERED, 0), 4) AS OPEN_RATE,
  ROUND(f.CLICKED / NULLIF(f.OPENED, 0), 4) AS CLICK_TO_OPEN_RATE, ROUND(f.CLICKED / NULLIF(f.DELIVERED, 0), 4) AS CLICK_RATE,
  ROUND(COALESCE(c.CONVERTED, 0) / NULLIF(f.SENT, 0), 4) AS CONVERSION_RATE,
  COALESCE(c.CONVERSIONS_LAST_TOUCH, 0) AS CONVERSIONS_LAST_TOUCH, ROUND(COALESCE(c.REVENUE_LAST_TOUCH, 0), 2) AS REVENUE_LAST_TOUCH,
  ROUND(COALESCE(c.CONVERSIONS_LINEAR, 0), 6) AS CONVERSIONS_LINEAR, ROUND(COALESCE(c.REVENUE_LINEAR, 0), 2) AS REVENUE_LINEAR,
  ${dateLit(p.asOf)} AS AS_OF_DATE
FROM funnel f FULL JOIN credit c ON c.CAMPAIGN_ID = f.CAMPAIGN_ID AND c.CHANNEL = f.CHANNEL
LEFT JOIN s_campaigns m ON m.CAMPAIGN_ID = COALESCE(f.CAMPAIGN_ID, c.CAMPAIGN_ID)
ORDER BY 1, 2`,
});

export const campaignRoi = gold({
  name: 'campaign_roi',
  description: 'Per campaign: budget, spend, attributed conversions and revenue (both models), ROI and cost per conversion',
  grain: 'one row per CAMPAIGN_ID started by the as-of date',
  job: 'gold-campaigns',
  primaryKey: ['CAMPAIGN_ID'],
  columns: [
    ['CAMPAIGN_ID', T.varchar, 'Campaign'], ['CAMPAIGN_NAME', T.varchar, 'Name'], ['CAMPAIGN_TYPE', T.varchar, 'Type'], ['CAMPAIGN_STATUS', T.varchar, 'Status'],
    ['START_DATE', T.date, 'Start'], ['END_DATE', T.date, 'End'], ['BUDGET', T.money, 'Budget'], ['SPENT_AMOUNT', T.money, 'Spent'],
    ['BUDGET_UTILISATION', T.double, 'SPENT_AMOUNT / BUDGET'], ['CONVERSIONS_LAST_TOUCH', T.bigint, 'Purchases credited by last touch (a person may convert more than once)'],
    ['REVENUE_LAST_TOUCH', T.double, 'Revenue credited by last touch'], ['CONVERSIONS_LINEAR', T.double, 'Conversions credited linearly'],
    ['REVENUE_LINEAR', T.double, 'Revenue credited linearly'], ['ROI_LAST_TOUCH', T.double, '(REVENUE_LAST_TOUCH - SPENT_AMOUNT) / SPENT_AMOUNT'],
    ['ROI_LINEAR', T.double, '(REVENUE_LINEAR - SPENT_AMOUNT) / SPENT_AMOUNT'], ['COST_PER_CONVERSION', T.double, 'SPENT_AMOUNT / CONVERSIONS_LAST_TOUCH'], AS_OF,
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'AGG_CAMPAIGN_ROI', strategy: 'snapshot', clusterBy: ['CAMPAIGN_ID'],
    comment: 'Per campaign: budget, spend, attributed conversions and revenue, ROI',
  },
  sql: (p) => `WITH credit AS (
  SELECT CAMPAIGN_ID,
    count(*) FILTER (WHERE MODEL = 'LAST_TOUCH') AS CONVERSIONS_LAST_TOUCH,
    COALESCE(sum(REVENUE_CREDIT) FILTER (WHERE MODEL = 'LAST_TOUCH'), 0) AS REVENUE_LAST_TOUCH,
    COALESCE(sum(CREDIT) FILTER (WHERE MODEL = 'LINEAR'), 0) AS CONVERSIONS_LINEAR,
    COALESCE(sum(REVENUE_CREDIT) FILTER (WHERE MODEL = 'LINEAR'), 0) AS REVENUE_LINEAR
  FROM g_campaign_attribution GROUP BY 1
)
SELECT m.CAMPAIGN_ID, m.CAMPAIGN_NAME, m.CAMPAIGN_TYPE, m.CAMPAIGN_STATUS, m.START_DATE, m.END_DATE,
  CAST(m.BUDGET AS DECIMAL(18,2)) AS BUDGET, CAST(m.SPENT_AMOUNT AS DECIMAL(18,2)) AS SPENT_AMOUNT,
  ROUND(m.SPENT_AMOUNT / NULLIF(m.BUDGET, 0), 4) AS BUDGET_UTILISATION,
  COALESCE(c.CONVERSIONS_LAST_TOUCH, 0) AS CONVERSIONS_LAST_TOUCH, ROUND(COALESCE(c.REVENUE_LAST_TOUCH, 0), 2) AS REVENUE_LAST_TOUCH,
  ROUND(COALESCE(c.CONVERSIONS_LINEAR, 0), 6) AS CONVERSIONS_LINEAR, ROUND(COALESCE(c.REVENUE_LINEAR, 0), 2) AS REVENUE_LINEAR,
  ROUND((COALESCE(c.REVENUE_LAST_TOUCH, 0) - m.SPENT_AMOUNT) / NULLIF(m.SPENT_AMOUNT, 0), 4) AS ROI_LAST_TOUCH,
  ROUND((COALESCE(c.REVENUE_LINEAR, 0) - m.SPENT_AMOUNT) / NULLIF(m.SPENT_AMOUNT, 0), 4) AS ROI_LINEAR,
  ROUND(m.SPENT_AMOUNT / NULLIF(c.CONVERSIONS_LAST_TOUCH, 0), 2) AS COST_PER_CONVERSION,
  ${dateLit(p.asOf)} AS AS_OF_DATE
FROM s_campaigns m LEFT JOIN credit c USING (CAMPAIGN_ID)
ORDER BY 1`,
});
