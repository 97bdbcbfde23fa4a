// The CUSTOMER_360 star around the profile: identity map, transaction and interaction facts, product and date
// dimensions, and the service summary.
import { T } from '../warehouse/types.ts';
import { byDay } from './day-partitioned.ts';
import { AS_OF, DATE_KEY, ID, IS_PURCHASE, dateKey, gold } from './dataset.ts';
import { dateLit } from './paths.ts';

export const customerIdentityMap = gold({
  name: 'customer_identity_map',
  description: 'One row per (SOURCE_SYSTEM, CUSTOMER_ID) with its CUSTOMER360_ID',
  grain: 'one row per source identifier (SOURCE_SYSTEM, CUSTOMER_ID) known by the as-of date',
  job: 'gold-customer',
  primaryKey: ['SOURCE_SYSTEM', 'CUSTOMER_ID'],
  columns: [['SOURCE_SYSTEM', T.varchar, 'Source system of the identifier'], ['CUSTOMER_ID', T.varchar, 'Customer id in the source system'], ID, AS_OF],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'CUSTOMER_IDENTITY_MAP', strategy: 'snapshot', clusterBy: ['CUSTOMER360_ID'],
    comment: 'One row per source identifier (SOURCE_SYSTEM, CUSTOMER_ID) with the person it belongs to',
  },
  sql: (p) => `SELECT SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID, ${dateLit(p.asOf)} AS AS_OF_DATE
FROM s_crosswalk ORDER BY SOURCE_SYSTEM, CUSTOMER_ID`,
});

export const factTransactions = byDay(gold({
  name: 'fact_transactions',
  description: 'Transactions on or before the as-of date, keyed to the person, date and channel',
  grain: 'one row per TRANSACTION_ID',
  job: 'gold-customer',
  retention: { column: 'TRANSACTION_DATE', from: ['CUSTOMER_TRANSACTIONS'] },
  primaryKey: ['TRANSACTION_ID'],
  columns: [
    ['TRANSACTION_ID', T.varchar, 'Transaction id'], ID, ['CUSTOMER_ID', T.varchar, 'Customer id in the source system'], DATE_KEY,
    ['TRANSACTION_DATE', T.timestamp, 'Transaction time (UTC)'], ['CHANNEL', T.varchar, 'Sales channel'],
    ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint (DIM_TOUCHPOINT)'], ['TRANSACTION_TYPE', T.varchar, 'PURCHASE, RETURN, REFUND or EXCHANGE'],
    ['TRANSACTION_STATUS', T.varchar, 'COMPLETED, FAILED, CANCELLED or PENDING'], ['TOTAL_AMOUNT', T.money, 'Total amount'],
    ['TAX_AMOUNT', T.money, 'Tax amount'], ['SHIPPING_AMOUNT', T.money, 'Shipping amount'], ['DISCOUNT_AMOUNT', T.money, 'Discount amount'],
    ['CURRENCY_CODE', T.varchar, 'ISO currency code'], ['PAYMENT_METHOD', T.varchar, 'Payment method'], ['STORE_ID', T.varchar, 'Store id'],
    ['PROMOTION_CODE', T.varchar, 'Promotion code'], ['LOYALTY_POINTS_EARNED', T.integer, 'Loyalty points earned'],
    ['LOYALTY_POINTS_REDEEMED', T.integer, 'Loyalty points redeemed'], ['ITEM_COUNT', T.bigint, 'Line items'], ['UNITS', T.bigint, 'Units over the line items'],
    ['IS_COMPLETED_PURCHASE', T.boolean, 'A COMPLETED PURCHASE (counts in orders and revenue)'],
  ],
  warehouse: { schema: 'CUSTOMER_360', table: 'FACT_TRANSACTIONS', strategy: 'snapshot', clusterBy: ['DATE_KEY'], partitionBy: 'DATE_KEY', comment: 'Transactions on or before the as-of date, one row each' },
  sql: () => `WITH items AS (
  SELECT TRANSACTION_ID, count(*) AS ITEM_COUNT, CAST(COALESCE(sum(QUANTITY), 0) AS BIGINT) AS UNITS
  FROM s_items GROUP BY TRANSACTION_ID
)
SELECT t.TRANSACTION_ID, t.CUSTOMER360_ID, t.CUSTOMER_ID, ${dateKey('t.TRANSACTION_DATE')} AS DATE_KEY, t.TRANSACTION_DATE,
  t.CHANNEL, 'COMMERCE_' || t.CHANNEL AS TOUCHPOINT_KEY, t.TRANSACTION_TYPE, t.TRANSACTION_STATUS,
  CAST(t.TOTAL_AMOUNT AS DECIMAL(18,2)) AS TOTAL_AMOUNT, CAST(t.TAX_AMOUNT AS DECIMAL(18,2)) AS TAX_AMOUNT,
  CAST(t.SHIPPING_AMOUNT AS DECIMAL(18,2)) AS SHIPPING_AMOUNT, CAST(t.DISCOUNT_AMOUNT AS DECIMAL(18,2)) AS DISCOUNT_AMOUNT,
  t.CURRENCY_CODE, t.PAYMENT_METHOD, t.STORE_ID, t.PROMOTION_CODE,
  t.LOYALTY_POINTS_EARNED, t.LOYALTY_POINTS_REDEEMED,
  COALESCE(i.ITEM_COUNT, 0) AS ITEM_COUNT, COALESCE(i.UNITS, 0) AS UNITS,
  (${IS_PURCHASE}) AS IS_COMPLETED_PURCHASE
FROM s_transactions t LEFT JOIN items i USING (TRANSACTION_ID)`,
}), { dayColumn: 'TRANSACTION_DATE' });

export const factCustomerInteractions = byDay(gold({
  name: 'fact_customer_interactions',
  description: 'Every marketing engagement and service interaction of a person, one row each',
  grain: 'one row per engagement or service interaction (INTERACTION_KEY)',
  job: 'gold-customer',
  retention: { column: 'INTERACTION_AT', from: ['CUSTOMER_ENGAGEMENT_EVENTS', 'CUSTOMER_SERVICE_INTERACTIONS'] },
  primaryKey: ['INTERACTION_KEY'],
  columns: [
    ['INTERACTION_KEY', T.varchar, 'INTERACTION_SOURCE:INTERACTION_ID'], ['INTERACTION_SOURCE', T.varchar, 'ENGAGEMENT or SERVICE'],
    ['INTERACTION_ID', T.varchar, 'ENGAGEMENT_ID or INTERACTION_ID in the source'], ID, DATE_KEY, ['INTERACTION_AT', T.timestamp, 'Interaction time (UTC)'],
    ['CHANNEL', T.varchar, 'Engagement type or service interaction type'], ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint (DIM_TOUCHPOINT)'],
    ['INTERACTION_TYPE', T.varchar, 'Engagement action, or service category'], ['OUTCOME', T.varchar, 'Engagement status or service outcome'],
    ['CAMPAIGN_ID', T.varchar, 'Campaign of an engagement'], ['TICKET_ID', T.varchar, 'Ticket of a service interaction'],
    ['SATISFACTION_SCORE', T.integer, 'Service satisfaction 1-5'], ['SENTIMENT_SCORE', T.double, 'Service sentiment -1..1'],
  ],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'FACT_CUSTOMER_INTERACTIONS', strategy: 'snapshot', clusterBy: ['DATE_KEY'], partitionBy: 'DATE_KEY',
    comment: 'Marketing engagements and service interactions of people, one row each',
  },
  sql: () => `SELECT 'ENGAGEMENT:' || ENGAGEMENT_ID AS INTERACTION_KEY, 'ENGAGEMENT' AS INTERACTION_SOURCE, ENGAGEMENT_ID AS INTERACTION_ID,
  CUSTOMER360_ID, ${dateKey('ENGAGEMENT_DATE')} AS DATE_KEY, ENGAGEMENT_DATE AS INTERACTION_AT,
  ENGAGEMENT_TYPE AS CHANNEL, 'MESSAGE_' || ENGAGEMENT_TYPE AS TOUCHPOINT_KEY, ENGAGEMENT_ACTION AS INTERACTION_TYPE,
  ENGAGEMENT_STATUS AS OUTCOME, CAMPAIGN_ID, CAST(NULL AS VARCHAR) AS TICKET_ID,
  CAST(NULL AS INTEGER) AS SATISFACTION_SCORE, CAST(NULL AS DOUBLE) AS SENTIMENT_SCORE
FROM s_engagement
UNION ALL
SELECT 'SERVICE:' || INTERACTION_ID, 'SERVICE', INTERACTION_ID,
  CUSTOMER360_ID, ${dateKey('INTERACTION_DATE')}, INTERACTION_DATE,
  INTERACTION_TYPE, 'SERVICE_' || INTERACTION_TYPE, COALESCE(CATEGORY, 'GENERAL'),
  INTERACTION_OUTCOME, CAST(NULL AS VARCHAR), TICKET_ID,
  SATISFACTION_SCORE, CAST(SENTIMENT_SCORE AS DOUBLE)
FROM s_interactions`,
}), { dayColumn: 'INTERACTION_AT' });

// Products are summed from a per-product-day aggregate kept by day (day-partitioned.ts): a day's rows depend only on
// that day's transactions and their line items, so a daily run recomputes the changed days' rows and sums the compact
// product-days for the snapshot instead of reading every line item.
export const productDaily = byDay({ ...gold({
  name: 'product_daily',
  description: 'Per product and sale day: the latest line\'s attributes, units, revenue, returns, ratings and prices (summed into dim_product)',
  grain: 'one row per (PRODUCT_ID, SOLD_DATE) with a line item',
  job: 'gold-customer',
  primaryKey: ['PRODUCT_ID', 'SOLD_DATE'],
  keep: true,
  columns: [
    ['PRODUCT_ID', T.varchar, 'Product id'], ['SOLD_DATE', T.date, 'Transaction date of the lines'],
    ['LATEST_AT', T.timestamp, 'Time of the day\'s latest line'], ['LATEST_ITEM_ID', T.varchar, 'Smallest ITEM_ID among the lines at LATEST_AT'],
    ['PRODUCT_NAME', T.varchar, 'Product name on that line'], ['CATEGORY', T.varchar, 'Category on that line'], ['SUBCATEGORY', T.varchar, 'Subcategory on that line'],
    ['BRAND', T.varchar, 'Brand on that line'], ['SKU', T.varchar, 'SKU on that line'],
    ['UNIT_PRICE_SUM', { kind: 'decimal', precision: 38, scale: 2 }, 'Sum of unit prices'], ['UNIT_PRICE_COUNT', T.bigint, 'Lines with a unit price'],
    ['UNITS_SOLD', T.bigint, 'Units on SOLD lines'], ['REVENUE', { kind: 'decimal', precision: 38, scale: 2 }, 'TOTAL_PRICE on SOLD lines'],
    ['LINES', T.bigint, 'Lines'], ['RETURNED_LINES', T.bigint, 'Lines RETURNED'],
    ['RATING_SUM', T.bigint, 'Sum of item ratings'], ['RATING_COUNT', T.bigint, 'Lines with a rating'],
    ['FIRST_AT', T.timestamp, 'Earliest line time'],
  ],
  sql: () => `SELECT i.PRODUCT_ID, CAST(t.TRANSACTION_DATE AS DATE) AS SOLD_DATE,
  max(t.TRANSACTION_DATE) AS LATEST_AT,
  first(i.ITEM_ID ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS LATEST_ITEM_ID,
  first(i.PRODUCT_NAME ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS PRODUCT_NAME,
  first(i.CATEGORY ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS CATEGORY,
  first(i.SUBCATEGORY ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS SUBCATEGORY,
  first(i.BRAND ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS BRAND,
  first(i.SKU ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS SKU,
  CAST(sum(i.UNIT_PRICE) AS DECIMAL(38,2)) AS UNIT_PRICE_SUM, count(i.UNIT_PRICE) AS UNIT_PRICE_COUNT,
  CAST(COALESCE(sum(i.QUANTITY) FILTER (WHERE i.ITEM_STATUS = 'SOLD'), 0) AS BIGINT) AS UNITS_SOLD,
  CAST(COALESCE(sum(i.TOTAL_PRICE) FILTER (WHERE i.ITEM_STATUS = 'SOLD'), 0) AS DECIMAL(38,2)) AS REVENUE,
  count(*) AS LINES, count(*) FILTER (WHERE i.ITEM_STATUS = 'RETURNED') AS RETURNED_LINES,
  CAST(COALESCE(sum(i.ITEM_RATING), 0) AS BIGINT) AS RATING_SUM, count(i.ITEM_RATING) AS RATING_COUNT,
  min(t.TRANSACTION_DATE) AS FIRST_AT
FROM s_items i JOIN s_transactions t USING (TRANSACTION_ID)
WHERE i.PRODUCT_ID IS NOT NULL AND t.TRANSACTION_DATE IS NOT NULL
GROUP BY 1, 2`,
}), path: 'gold/aggregates/product_daily' }, { dayColumn: 'SOLD_DATE' });

export const dimProduct = gold({
  name: 'dim_product',
  description: 'Products sold on or before the as-of date: latest attributes and sales statistics',
  grain: 'one row per PRODUCT_ID sold by the as-of date',
  job: 'gold-customer',
  primaryKey: ['PRODUCT_ID'],
  columns: [
    ['PRODUCT_ID', T.varchar, 'Product id'], ['PRODUCT_NAME', T.varchar, 'Latest product name'], ['CATEGORY', T.varchar, 'Latest category'],
    ['SUBCATEGORY', T.varchar, 'Latest subcategory'], ['BRAND', T.varchar, 'Latest brand'], ['SKU', T.varchar, 'Latest SKU'],
    ['AVG_UNIT_PRICE', T.money, 'Average unit price'], ['UNITS_SOLD', T.bigint, 'Units on SOLD lines'], ['REVENUE', T.money, 'TOTAL_PRICE on SOLD lines'],
    ['RETURN_RATE', T.double, 'Share of lines RETURNED'], ['AVG_RATING', T.double, 'Average item rating'],
    ['FIRST_SOLD_DATE', T.date, 'First sale date'], ['LAST_SOLD_DATE', T.date, 'Latest sale date'],
  ],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'DIM_PRODUCT', strategy: 'snapshot', clusterBy: ['CATEGORY'],
    comment: 'Products sold on or before the as-of date, with latest attributes and sales statistics',
  },
  // The product-days up to the as-of date (g_product_daily), summed: the latest line over the days is the latest
  // day's latest line; averages are sums over counts.
  sql: () => `SELECT PRODUCT_ID,
  first(PRODUCT_NAME ORDER BY LATEST_AT DESC, LATEST_ITEM_ID) AS PRODUCT_NAME,
  first(CATEGORY ORDER BY LATEST_AT DESC, LATEST_ITEM_ID) AS CATEGORY,
  first(SUBCATEGORY ORDER BY LATEST_AT DESC, LATEST_ITEM_ID) AS SUBCATEGORY,
  first(BRAND ORDER BY LATEST_AT DESC, LATEST_ITEM_ID) AS BRAND,
  first(SKU ORDER BY LATEST_AT DESC, LATEST_ITEM_ID) AS SKU,
  CAST(ROUND(sum(UNIT_PRICE_SUM) / NULLIF(sum(UNIT_PRICE_COUNT), 0), 2) AS DECIMAL(18,2)) AS AVG_UNIT_PRICE,
  CAST(sum(UNITS_SOLD) AS BIGINT) AS UNITS_SOLD,
  CAST(sum(REVENUE) AS DECIMAL(18,2)) AS REVENUE,
  ROUND(sum(RETURNED_LINES) / sum(LINES), 4) AS RETURN_RATE,
  ROUND(sum(RATING_SUM) / NULLIF(sum(RATING_COUNT), 0), 2) AS AVG_RATING,
  CAST(min(FIRST_AT) AS DATE) AS FIRST_SOLD_DATE,
  CAST(max(LATEST_AT) AS DATE) AS LAST_SOLD_DATE
FROM g_product_daily GROUP BY PRODUCT_ID ORDER BY PRODUCT_ID`,
});

export const dimDate = gold({
  name: 'dim_date',
  description: 'Calendar from the first event date to the as-of date',
  grain: 'one row per calendar day',
  job: 'gold-customer',
  primaryKey: ['DATE_KEY'],
  columns: [
    DATE_KEY, ['CALENDAR_DATE', T.date, 'Date'], ['YEAR', T.integer, 'Year'], ['QUARTER', T.integer, 'Quarter 1-4'], ['MONTH', T.integer, 'Month 1-12'],
    ['MONTH_NAME', T.varchar, 'Month name'], ['ISO_WEEK', T.integer, 'ISO week number'], ['DAY_OF_MONTH', T.integer, 'Day of month'],
    ['ISO_DAY_OF_WEEK', T.integer, 'ISO day of week (1 = Monday)'], ['DAY_NAME', T.varchar, 'Day name'], ['IS_WEEKEND', T.boolean, 'Saturday or Sunday'],
    ['WEEK_START', T.date, 'Monday of the week'], ['MONTH_START', T.date, 'First day of the month'],
  ],
  warehouse: { schema: 'CUSTOMER_360', table: 'DIM_DATE', strategy: 'snapshot', clusterBy: ['DATE_KEY'] },
  // The first event date of each table from its state (one row each), not a scan of every event.
  sql: (p) => `WITH bounds AS (
  SELECT COALESCE(LEAST(
    (SELECT FIRST_DATE FROM s_first_day_transactions),
    (SELECT FIRST_DATE FROM s_first_day_events),
    (SELECT FIRST_DATE FROM s_first_day_sessions),
    (SELECT FIRST_DATE FROM s_first_day_engagement),
    (SELECT FIRST_DATE FROM s_first_day_tickets),
    (SELECT FIRST_DATE FROM s_first_day_interactions)), ${dateLit(p.asOf)}) AS lo
)
SELECT ${dateKey('d')} AS DATE_KEY, CAST(d AS DATE) AS CALENDAR_DATE,
  CAST(year(d) AS INTEGER) AS YEAR, CAST(quarter(d) AS INTEGER) AS QUARTER, CAST(month(d) AS INTEGER) AS MONTH,
  strftime(d, '%B') AS MONTH_NAME, CAST(weekofyear(d) AS INTEGER) AS ISO_WEEK, CAST(day(d) AS INTEGER) AS DAY_OF_MONTH,
  CAST(isodow(d) AS INTEGER) AS ISO_DAY_OF_WEEK, strftime(d, '%A') AS DAY_NAME, isodow(d) >= 6 AS IS_WEEKEND,
  CAST(date_trunc('week', d) AS DATE) AS WEEK_START, CAST(date_trunc('month', d) AS DATE) AS MONTH_START
FROM bounds, generate_series(CAST(lo AS TIMESTAMP), CAST(${dateLit(p.asOf)} AS TIMESTAMP), INTERVAL 1 DAY) AS g(d)
ORDER BY 1`,
});

export const serviceSummary = gold({
  name: 'service_summary',
  description: 'Ticket volumes, response and resolution times, satisfaction and sentiment by category and priority',
  grain: 'one row per (TICKET_CATEGORY, TICKET_PRIORITY)',
  job: 'gold-customer',
  primaryKey: ['TICKET_CATEGORY', 'TICKET_PRIORITY'],
  columns: [
    ['TICKET_CATEGORY', T.varchar, 'Ticket category'], ['TICKET_PRIORITY', T.varchar, 'Ticket priority'], ['TICKETS', T.bigint, 'Tickets'],
    ['OPEN_TICKETS', T.bigint, 'Tickets OPEN or IN_PROGRESS'], ['RESOLVED_TICKETS', T.bigint, 'Tickets RESOLVED or CLOSED'],
    ['AVG_FIRST_RESPONSE_MINUTES', T.double, 'Average first response time, minutes'], ['MEDIAN_FIRST_RESPONSE_MINUTES', T.double, 'Median first response time, minutes'],
    ['AVG_RESOLUTION_MINUTES', T.double, 'Average resolution time of resolved tickets, minutes'], ['AVG_SATISFACTION', T.double, 'Average satisfaction 1-5'],
    ['AVG_SENTIMENT', T.double, 'Average sentiment of the tickets\' interactions'], ['INTERACTIONS', T.bigint, 'Service interactions on the tickets'],
    ['CUSTOMERS', T.bigint, 'Distinct people with tickets'], AS_OF,
  ],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'AGG_SERVICE_SUMMARY', strategy: 'snapshot', clusterBy: ['TICKET_CATEGORY'],
    comment: 'Service tickets by category and priority: volumes, response and resolution times, satisfaction, sentiment',
  },
  sql: (p) => `WITH sentiment AS (
  SELECT TICKET_ID, avg(SENTIMENT_SCORE) AS sentiment, count(*) AS interactions
  FROM s_interactions WHERE TICKET_ID IS NOT NULL GROUP BY TICKET_ID
)
SELECT COALESCE(t.TICKET_CATEGORY, 'UNKNOWN') AS TICKET_CATEGORY, COALESCE(t.TICKET_PRIORITY, 'UNKNOWN') AS TICKET_PRIORITY,
  count(*) AS TICKETS,
  count(*) FILTER (WHERE t.TICKET_STATUS IN ('OPEN', 'IN_PROGRESS')) AS OPEN_TICKETS,
  count(*) FILTER (WHERE t.TICKET_STATUS IN ('RESOLVED', 'CLOSED')) AS RESOLVED_TICKETS,
  ROUND(avg(t.FIRST_RESPONSE_TIME), 1) AS AVG_FIRST_RESPONSE_MINUTES,
  ROUND(median(t.FIRST_RESPONSE_TIME), 1) AS MEDIAN_FIRST_RESPONSE_MINUTES,
  ROUND(avg(t.TOTAL_RESOLUTION_TIME) FILTER (WHERE t.TICKET_STATUS IN ('RESOLVED', 'CLOSED')), 1) AS AVG_RESOLUTION_MINUTES,
  ROUND(avg(t.CUSTOMER_SATISFACTION), 2) AS AVG_SATISFACTION,
  ROUND(avg(s.sentiment), 3) AS AVG_SENTIMENT,
  CAST(COALESCE(sum(s.interactions), 0) AS BIGINT) AS INTERACTIONS,
  count(DISTINCT t.CUSTOMER360_ID) AS CUSTOMERS,
  ${dateLit(p.asOf)} AS AS_OF_DATE
FROM s_tickets t LEFT JOIN sentiment s USING (TICKET_ID)
GROUP BY ALL ORDER BY 1, 2`,
});
