// The CUSTOMER_360 star around the profile: identity map, transaction and interaction facts, product and date
// dimensions, and the service summary.
import { IS_PURCHASE, type GoldDataset } from './dataset.ts';
import { dateLit } from './paths.ts';

/** YYYYMMDD as an integer; date-part arithmetic gives the same key as strftime at a quarter of the cost per row. */
const dateKey = (ts: string) => `CAST(year(${ts}) * 10000 + month(${ts}) * 100 + day(${ts}) AS INTEGER)`;

export const customerIdentityMap: GoldDataset = {
  name: 'customer_identity_map',
  description: 'One row per (SOURCE_SYSTEM, CUSTOMER_ID) with its CUSTOMER360_ID',
  sql: (p) => `SELECT SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID, ${dateLit(p.asOf)} AS AS_OF_DATE
FROM s_crosswalk ORDER BY SOURCE_SYSTEM, CUSTOMER_ID`,
};

export const factTransactions: GoldDataset = {
  name: 'fact_transactions',
  description: 'Transactions on or before the as-of date, keyed to the person, date and channel',
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
};

export const factCustomerInteractions: GoldDataset = {
  name: 'fact_customer_interactions',
  description: 'Every marketing engagement and service interaction of a person, one row each',
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
};

export const dimProduct: GoldDataset = {
  name: 'dim_product',
  description: 'Products sold on or before the as-of date: latest attributes and sales statistics',
  sql: () => `WITH sold AS (
  SELECT i.*, t.TRANSACTION_DATE FROM s_items i JOIN s_transactions t USING (TRANSACTION_ID)
  WHERE i.PRODUCT_ID IS NOT NULL
)
SELECT PRODUCT_ID,
  first(PRODUCT_NAME ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS PRODUCT_NAME,
  first(CATEGORY ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS CATEGORY,
  first(SUBCATEGORY ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS SUBCATEGORY,
  first(BRAND ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS BRAND,
  first(SKU ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS SKU,
  CAST(ROUND(avg(UNIT_PRICE), 2) AS DECIMAL(18,2)) AS AVG_UNIT_PRICE,
  CAST(COALESCE(sum(QUANTITY) FILTER (WHERE ITEM_STATUS = 'SOLD'), 0) AS BIGINT) AS UNITS_SOLD,
  CAST(COALESCE(sum(TOTAL_PRICE) FILTER (WHERE ITEM_STATUS = 'SOLD'), 0) AS DECIMAL(18,2)) AS REVENUE,
  ROUND(count(*) FILTER (WHERE ITEM_STATUS = 'RETURNED') / count(*), 4) AS RETURN_RATE,
  ROUND(avg(ITEM_RATING), 2) AS AVG_RATING,
  CAST(min(TRANSACTION_DATE) AS DATE) AS FIRST_SOLD_DATE,
  CAST(max(TRANSACTION_DATE) AS DATE) AS LAST_SOLD_DATE
FROM sold GROUP BY PRODUCT_ID ORDER BY PRODUCT_ID`,
};

export const dimDate: GoldDataset = {
  name: 'dim_date',
  description: 'Calendar from the first event date to the as-of date',
  sql: (p) => `WITH bounds AS (
  SELECT COALESCE(LEAST(
    (SELECT min(CAST(TRANSACTION_DATE AS DATE)) FROM s_transactions),
    (SELECT min(CAST(EVENT_DATE AS DATE)) FROM s_events),
    (SELECT min(CAST(SESSION_START AS DATE)) FROM s_sessions),
    (SELECT min(CAST(ENGAGEMENT_DATE AS DATE)) FROM s_engagement),
    (SELECT min(CAST(CREATION_DATE AS DATE)) FROM s_tickets),
    (SELECT min(CAST(INTERACTION_DATE AS DATE)) FROM s_interactions)), ${dateLit(p.asOf)}) AS lo
)
SELECT ${dateKey('d')} AS DATE_KEY, CAST(d AS DATE) AS CALENDAR_DATE,
  CAST(year(d) AS INTEGER) AS YEAR, CAST(quarter(d) AS INTEGER) AS QUARTER, CAST(month(d) AS INTEGER) AS MONTH,
  strftime(d, '%B') AS MONTH_NAME, CAST(weekofyear(d) AS INTEGER) AS ISO_WEEK, CAST(day(d) AS INTEGER) AS DAY_OF_MONTH,
  CAST(isodow(d) AS INTEGER) AS ISO_DAY_OF_WEEK, strftime(d, '%A') AS DAY_NAME, isodow(d) >= 6 AS IS_WEEKEND,
  CAST(date_trunc('week', d) AS DATE) AS WEEK_START, CAST(date_trunc('month', d) AS DATE) AS MONTH_START
FROM bounds, generate_series(CAST(lo AS TIMESTAMP), CAST(${dateLit(p.asOf)} AS TIMESTAMP), INTERVAL 1 DAY) AS g(d)
ORDER BY 1`,
};

export const serviceSummary: GoldDataset = {
  name: 'service_summary',
  description: 'Ticket volumes, response and resolution times, satisfaction and sentiment by category and priority',
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
};
