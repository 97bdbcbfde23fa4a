// What BI analysts look for beside the profile: product sales by customer and date (the line-item fact) and each
// person's preferences, merged over their source records.
import { T } from '../warehouse/types.ts';
import { byDay } from './day-partitioned.ts';
import { AS_OF, DATE_KEY, ID, IS_PURCHASE, dateKey, gold } from './dataset.ts';
import { dateLit } from './paths.ts';

export const factTransactionItems = byDay(gold({
  name: 'fact_transaction_items',
  description: 'Transaction line items on or before the as-of date: product sales by person, date and channel',
  grain: 'one row per ITEM_ID of a transaction on or before the as-of date',
  job: 'gold-customer',
  retention: { column: 'TRANSACTION_DATE', from: ['CUSTOMER_TRANSACTIONS'] },
  primaryKey: ['ITEM_ID'],
  columns: [
    ['ITEM_ID', T.varchar, 'Line item id'], ['TRANSACTION_ID', T.varchar, 'Transaction (FACT_TRANSACTIONS)'], ID,
    ['CUSTOMER_ID', T.varchar, 'Customer id in the source system'], DATE_KEY, ['TRANSACTION_DATE', T.timestamp, 'Transaction time (UTC)'],
    ['CHANNEL', T.varchar, 'Sales channel'], ['STORE_ID', T.varchar, 'Store id'],
    ['PRODUCT_ID', T.varchar, 'Product (DIM_PRODUCT)'], ['PRODUCT_NAME', T.varchar, 'Product name on the line'], ['CATEGORY', T.varchar, 'Category on the line'],
    ['SUBCATEGORY', T.varchar, 'Subcategory on the line'], ['BRAND', T.varchar, 'Brand on the line'], ['SKU', T.varchar, 'Stock keeping unit'],
    ['SIZE', T.varchar, 'Size'], ['COLOR', T.varchar, 'Colour variant'],
    ['QUANTITY', T.integer, 'Units'], ['UNIT_PRICE', T.money, 'Unit price'], ['TOTAL_PRICE', T.money, 'Line total'],
    ['DISCOUNT_AMOUNT', T.money, 'Discount amount on the line'], ['ITEM_RATING', T.integer, 'Customer rating 1-5'],
    ['ITEM_STATUS', T.varchar, 'SOLD, RETURNED or EXCHANGED'], ['TRANSACTION_TYPE', T.varchar, 'PURCHASE, RETURN, REFUND or EXCHANGE'],
    ['TRANSACTION_STATUS', T.varchar, 'COMPLETED, FAILED, CANCELLED or PENDING'],
    ['IS_COMPLETED_SALE', T.boolean, 'A SOLD line of a COMPLETED PURCHASE (sum TOTAL_PRICE over these for product revenue by customer)'],
  ],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'FACT_TRANSACTION_ITEMS', strategy: 'snapshot', clusterBy: ['DATE_KEY'], partitionBy: 'DATE_KEY',
    comment: 'Transaction line items: product sales by customer (CUSTOMER360_ID) and date, one row per line',
  },
  sql: () => `SELECT i.ITEM_ID, i.TRANSACTION_ID, t.CUSTOMER360_ID, t.CUSTOMER_ID, ${dateKey('t.TRANSACTION_DATE')} AS DATE_KEY, t.TRANSACTION_DATE,
  t.CHANNEL, t.STORE_ID, i.PRODUCT_ID, i.PRODUCT_NAME, i.CATEGORY, i.SUBCATEGORY, i.BRAND, i.SKU, i.SIZE, i.COLOR,
  i.QUANTITY, CAST(i.UNIT_PRICE AS DECIMAL(18,2)) AS UNIT_PRICE, CAST(i.TOTAL_PRICE AS DECIMAL(18,2)) AS TOTAL_PRICE,
  CAST(i.DISCOUNT_AMOUNT AS DECIMAL(18,2)) AS DISCOUNT_AMOUNT, i.ITEM_RATING, i.ITEM_STATUS, t.TRANSACTION_TYPE, t.TRANSACTION_STATUS,
  COALESCE(i.ITEM_STATUS = 'SOLD' AND ${IS_PURCHASE}, false) AS IS_COMPLETED_SALE
FROM s_items i JOIN s_transactions t USING (TRANSACTION_ID)
ORDER BY DATE_KEY, i.ITEM_ID`,
}), { dayColumn: 'TRANSACTION_DATE' });

// A person's preference records from every source merge into one row per (type, value); the latest record (date, then
// id) says its current strength, source and status. Records of no known person, or with no value, say nothing
// about anyone's preference and are left out (they stay in Silver).
export const customerPreferences = gold({
  name: 'customer_preferences',
  description: 'Stated and inferred preferences per person, merged over their source records (latest record wins)',
  grain: 'one row per (CUSTOMER360_ID, PREFERENCE_TYPE, PREFERENCE_VALUE) recorded on or before the as-of date',
  job: 'gold-customer',
  primaryKey: ['CUSTOMER360_ID', 'PREFERENCE_TYPE', 'PREFERENCE_VALUE'],
  columns: [
    ID, ['PREFERENCE_TYPE', T.varchar, 'COMMUNICATION, PRODUCT, BRAND, CATEGORY (UNSPECIFIED when the source gave none)'],
    ['PREFERENCE_VALUE', T.varchar, 'Preferred channel, product, brand or category'],
    ['PREFERENCE_STRENGTH', { kind: 'decimal', precision: 3, scale: 2 }, 'Strength 0-1 on the latest record'], ['PREFERENCE_SOURCE', T.varchar, 'EXPLICIT, IMPLICIT or INFERRED (latest record)'],
    ['PREFERENCE_STATUS', T.varchar, 'ACTIVE, INACTIVE or OVERRIDDEN (latest record)'],
    ['IS_ACTIVE', T.boolean, 'The latest record is ACTIVE (or has no status)'],
    ['STRENGTH_RANK', T.integer, 'Rank among the person\'s active preferences of this type, 1 = strongest (null when inactive)'],
    ['FIRST_RECORDED_DATE', T.date, 'Earliest record'], ['LAST_RECORDED_DATE', T.date, 'Latest record'],
    ['RECORD_COUNT', T.bigint, 'Source records merged'], ['LATEST_PREFERENCE_ID', T.varchar, 'PREFERENCE_ID of the latest record'], AS_OF,
  ],
  warehouse: {
    schema: 'CUSTOMER_360', table: 'CUSTOMER_PREFERENCES', strategy: 'snapshot', clusterBy: ['CUSTOMER360_ID'],
    comment: 'Preferences per person (CUSTOMER360_ID), type and value, merged over source records',
  },
  sql: (p) => `WITH merged AS (
  SELECT CUSTOMER360_ID, COALESCE(PREFERENCE_TYPE, 'UNSPECIFIED') AS PREFERENCE_TYPE, PREFERENCE_VALUE,
    first(PREFERENCE_STRENGTH ORDER BY PREFERENCE_DATE DESC, PREFERENCE_ID DESC) AS PREFERENCE_STRENGTH,
    first(PREFERENCE_SOURCE ORDER BY PREFERENCE_DATE DESC, PREFERENCE_ID DESC) AS PREFERENCE_SOURCE,
    first(PREFERENCE_STATUS ORDER BY PREFERENCE_DATE DESC, PREFERENCE_ID DESC) AS PREFERENCE_STATUS,
    min(PREFERENCE_DATE) AS FIRST_RECORDED_DATE, max(PREFERENCE_DATE) AS LAST_RECORDED_DATE, count(*) AS RECORD_COUNT,
    first(PREFERENCE_ID ORDER BY PREFERENCE_DATE DESC, PREFERENCE_ID DESC) AS LATEST_PREFERENCE_ID
  FROM s_preferences
  WHERE CUSTOMER360_ID IS NOT NULL AND PREFERENCE_VALUE IS NOT NULL
  GROUP BY ALL
), flagged AS (
  SELECT *, COALESCE(PREFERENCE_STATUS, 'ACTIVE') = 'ACTIVE' AS IS_ACTIVE FROM merged
)
SELECT CUSTOMER360_ID, PREFERENCE_TYPE, PREFERENCE_VALUE, PREFERENCE_STRENGTH, PREFERENCE_SOURCE, PREFERENCE_STATUS, IS_ACTIVE,
  CASE WHEN IS_ACTIVE THEN CAST(row_number() OVER (
    PARTITION BY CUSTOMER360_ID, PREFERENCE_TYPE, IS_ACTIVE ORDER BY PREFERENCE_STRENGTH DESC NULLS LAST, LAST_RECORDED_DATE DESC, PREFERENCE_VALUE
  ) AS INTEGER) END AS STRENGTH_RANK,
  FIRST_RECORDED_DATE, LAST_RECORDED_DATE, RECORD_COUNT, LATEST_PREFERENCE_ID, ${dateLit(p.asOf)} AS AS_OF_DATE
FROM flagged ORDER BY CUSTOMER360_ID, PREFERENCE_TYPE, PREFERENCE_VALUE`,
});
