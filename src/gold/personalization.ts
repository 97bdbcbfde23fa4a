// RECOMMENDATIONS-side datasets built around the intelligence outputs: the content dimension (products, pages),
// the recommendation dimension (one row per algorithm and model version) and the personalization event fact
// (what people did with products that had been recommended to them).
import { T } from '../warehouse/types.ts';
import { AS_OF, DATE_KEY, ID, IS_PURCHASE, dateKey, gold } from './dataset.ts';
import { byDay, type ExtraInput } from './day-partitioned.ts';
import { registerRecommendationHistory } from './intelligence-inputs.ts';
import { dateLit, GOLD_ROOT } from './paths.ts';

export const dimContent = gold({
  name: 'dim_content',
  description: 'Content people see: products and pages, with views, viewers, cart adds and purchases',
  grain: 'one row per product or page (CONTENT_KEY)',
  job: 'gold-personalization',
  primaryKey: ['CONTENT_KEY'],
  columns: [
    ['CONTENT_KEY', T.varchar, 'CONTENT_TYPE:CONTENT_ID'], ['CONTENT_TYPE', T.varchar, 'PRODUCT or PAGE'], ['CONTENT_ID', T.varchar, 'Product id or page URL'],
    ['TITLE', T.varchar, 'Product name or page title'], ['CATEGORY', T.varchar, 'Category'], ['BRAND', T.varchar, 'Brand (products)'],
    ['VIEWS', T.bigint, 'Page views'], ['VIEWERS', T.bigint, 'Distinct viewers'], ['CART_ADDS', T.bigint, 'Cart adds'], ['PURCHASES', T.bigint, 'Completed purchases containing it'],
  ],
  warehouse: {
    schema: 'RECOMMENDATIONS', table: 'DIM_CONTENT', strategy: 'snapshot', clusterBy: ['CONTENT_TYPE'],
    comment: 'Content people see (products and pages) with views, viewers, cart adds and purchases',
  },
  sql: () => `WITH product AS (
  SELECT i.PRODUCT_ID, first(i.PRODUCT_NAME ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS TITLE,
    first(i.CATEGORY ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS CATEGORY,
    first(i.BRAND ORDER BY t.TRANSACTION_DATE DESC, i.ITEM_ID) AS BRAND,
    count(DISTINCT i.TRANSACTION_ID) FILTER (WHERE t.${IS_PURCHASE.replaceAll(' AND ', ' AND t.')}) AS PURCHASES
  FROM s_items i JOIN s_transactions t USING (TRANSACTION_ID) WHERE i.PRODUCT_ID IS NOT NULL GROUP BY i.PRODUCT_ID
),
-- arg_min_null over (-epoch_us(EVENT_DATE), EVENT_ID) = first(... ORDER BY EVENT_DATE DESC, EVENT_ID): both are never
-- null in s_events; a hash aggregate instead of sorting 5M events per group
product_ev AS (
  SELECT PRODUCT_ID, count(*) FILTER (WHERE EVENT_TYPE = 'PAGE_VIEW') AS VIEWS,
    count(DISTINCT CUSTOMER360_ID) FILTER (WHERE EVENT_TYPE = 'PAGE_VIEW') AS VIEWERS,
    count(*) FILTER (WHERE EVENT_TYPE = 'CART_ADD') AS CART_ADDS,
    arg_min_null(CATEGORY_VIEWED, {'at': -epoch_us(EVENT_DATE), 'id': EVENT_ID}) AS CATEGORY_VIEWED
  FROM s_events WHERE PRODUCT_ID IS NOT NULL GROUP BY PRODUCT_ID
),
page AS (
  SELECT PAGE_URL, arg_min_null(PAGE_TITLE, {'at': -epoch_us(EVENT_DATE), 'id': EVENT_ID}) AS TITLE,
    arg_min_null(CATEGORY_VIEWED, {'at': -epoch_us(EVENT_DATE), 'id': EVENT_ID}) AS CATEGORY,
    count(*) FILTER (WHERE EVENT_TYPE = 'PAGE_VIEW') AS VIEWS, count(DISTINCT CUSTOMER360_ID) AS VIEWERS
  FROM s_events WHERE PAGE_URL IS NOT NULL GROUP BY PAGE_URL
)
SELECT 'PRODUCT:' || COALESCE(p.PRODUCT_ID, e.PRODUCT_ID) AS CONTENT_KEY, 'PRODUCT' AS CONTENT_TYPE,
  COALESCE(p.PRODUCT_ID, e.PRODUCT_ID) AS CONTENT_ID, p.TITLE, COALESCE(p.CATEGORY, e.CATEGORY_VIEWED) AS CATEGORY, p.BRAND,
  COALESCE(e.VIEWS, 0) AS VIEWS, COALESCE(e.VIEWERS, 0) AS VIEWERS, COALESCE(e.CART_ADDS, 0) AS CART_ADDS, COALESCE(p.PURCHASES, 0) AS PURCHASES
FROM product p FULL JOIN product_ev e ON e.PRODUCT_ID = p.PRODUCT_ID
UNION ALL
SELECT 'PAGE:' || PAGE_URL, 'PAGE', PAGE_URL, TITLE, CATEGORY, CAST(NULL AS VARCHAR), VIEWS, VIEWERS, 0, 0 FROM page
ORDER BY 1`,
});

/** Needs g_recs (the product_recommendations of this as-of date) and g_registry (model_registry, may be empty). */
export const dimRecommendation = gold({
  name: 'dim_recommendation',
  description: 'One row per recommendation algorithm and model version, with coverage and score statistics',
  grain: 'one row per (ALGORITHM, MODEL_VERSION) with recommendations as of the date',
  job: 'gold-personalization',
  primaryKey: ['RECOMMENDATION_KEY'],
  columns: [
    ['RECOMMENDATION_KEY', T.varchar, 'ALGORITHM:MODEL_VERSION'], ['ALGORITHM', T.varchar, 'Algorithm'], ['MODEL_VERSION', T.varchar, 'Model version'],
    ['MODEL_NAME', T.varchar, 'Model name (MODEL_REGISTRY)'], ['MODEL_TYPE', T.varchar, 'Model type (MODEL_REGISTRY)'], ['CUSTOMERS', T.bigint, 'People with recommendations'],
    ['RECOMMENDATIONS', T.bigint, 'Recommendations'], ['DISTINCT_PRODUCTS', T.bigint, 'Distinct products recommended'], ['AVG_SCORE', T.double, 'Average score'],
    ['MAX_RANK', T.integer, 'Largest rank (list length)'], AS_OF,
  ],
  warehouse: {
    schema: 'RECOMMENDATIONS', table: 'DIM_RECOMMENDATION', strategy: 'snapshot', clusterBy: ['ALGORITHM'],
    comment: 'Recommendation algorithms and model versions with coverage and score statistics',
  },
  sql: (p) => `SELECT COALESCE(r.ALGORITHM, 'UNKNOWN') || ':' || COALESCE(r.MODEL_VERSION, 'UNVERSIONED') AS RECOMMENDATION_KEY,
  COALESCE(r.ALGORITHM, 'UNKNOWN') AS ALGORITHM, r.MODEL_VERSION, any_value(m.MODEL_NAME) AS MODEL_NAME, any_value(m.MODEL_TYPE) AS MODEL_TYPE,
  count(DISTINCT r.CUSTOMER360_ID) AS CUSTOMERS, count(*) AS RECOMMENDATIONS, count(DISTINCT r.PRODUCT_ID) AS DISTINCT_PRODUCTS,
  ROUND(avg(r.SCORE), 6) AS AVG_SCORE, max(r.RANK) AS MAX_RANK, ${dateLit(p.asOf)} AS AS_OF_DATE
FROM g_recs r LEFT JOIN g_registry m ON m.MODEL_VERSION = r.MODEL_VERSION
GROUP BY ALL ORDER BY 1`,
});

/**
 * Needs g_recs_history (product_recommendations of earlier as-of dates: the runs its days take). Maintained by event
 * day (day-partitioned.ts), with the recommendation runs as its input besides Silver. An event of a person on a product counts
 * when the product was in that person's list from the latest recommendation run before the event's day.
 */
export const factPersonalizationEvents = byDay(gold({
  name: 'fact_personalization_events',
  description: 'Views, clicks, cart adds and purchases of recommended products after they were recommended',
  grain: 'one row per (source event or purchase line, algorithm) on a product recommended to the person in the latest earlier run',
  job: 'gold-personalization',
  retention: { column: 'EVENT_AT', from: ['CUSTOMER_BEHAVIORAL_EVENTS', 'CUSTOMER_TRANSACTIONS'] },
  primaryKey: ['PERSONALIZATION_EVENT_KEY'],
  columns: [
    ['PERSONALIZATION_EVENT_KEY', T.varchar, 'Source event key and algorithm'], ID, ['PRODUCT_ID', T.varchar, 'Product'],
    ['ACTION', T.varchar, 'PAGE_VIEW, CLICK, CART_ADD or PURCHASE'], ['EVENT_AT', T.timestamp, 'Event time (UTC)'], DATE_KEY,
    ['RECOMMENDED_AS_OF', T.date, 'As-of date of the recommendation run'], ['ALGORITHM', T.varchar, 'Algorithm'], ['MODEL_VERSION', T.varchar, 'Model version'],
    ['RANK', T.integer, 'Rank the product had'], ['DAYS_AFTER_RECOMMENDATION', T.bigint, 'Days from the run to the event'], ['VALUE', T.double, 'Purchase line amount'],
  ],
  warehouse: {
    schema: 'RECOMMENDATIONS', table: 'FACT_PERSONALIZATION_EVENTS', strategy: 'snapshot', clusterBy: ['DATE_KEY'], partitionBy: 'DATE_KEY',
    comment: 'Views, clicks, cart adds and purchases of products recommended to the person in the latest earlier recommendation run',
  },
  // Only activity after the first earlier run, on products some run recommended, can match: filter before the joins.
  sql: () => `WITH since AS (SELECT min(AS_OF_DATE) AS d FROM g_recs_history),
recommended AS (SELECT DISTINCT PRODUCT_ID FROM g_recs_history),
acts AS (
  SELECT 'EVENT:' || EVENT_ID AS SOURCE_KEY, CUSTOMER360_ID, PRODUCT_ID, EVENT_TYPE AS ACTION, EVENT_DATE AS TOUCHED_AT, CAST(NULL AS DOUBLE) AS VALUE
  FROM s_events WHERE PRODUCT_ID IS NOT NULL AND CUSTOMER360_ID IS NOT NULL AND EVENT_TYPE IN ('PAGE_VIEW', 'CLICK', 'CART_ADD')
    AND CAST(EVENT_DATE AS DATE) > (SELECT d FROM since) AND PRODUCT_ID IN (SELECT PRODUCT_ID FROM recommended)
  UNION ALL
  SELECT 'ITEM:' || i.ITEM_ID, t.CUSTOMER360_ID, i.PRODUCT_ID, 'PURCHASE', t.TRANSACTION_DATE, CAST(i.TOTAL_PRICE AS DOUBLE)
  FROM s_items i JOIN s_transactions t USING (TRANSACTION_ID)
  WHERE i.PRODUCT_ID IS NOT NULL AND t.CUSTOMER360_ID IS NOT NULL AND t.${IS_PURCHASE.replaceAll(' AND ', ' AND t.')}
    AND CAST(t.TRANSACTION_DATE AS DATE) > (SELECT d FROM since) AND i.PRODUCT_ID IN (SELECT PRODUCT_ID FROM recommended)
),
runs AS (SELECT DISTINCT AS_OF_DATE FROM g_recs_history),
dated AS (
  SELECT a.*, r.AS_OF_DATE AS RECOMMENDED_AS_OF
  FROM acts a ASOF JOIN runs r ON CAST(a.TOUCHED_AT AS DATE) > r.AS_OF_DATE
)
SELECT d.SOURCE_KEY || ':' || h.ALGORITHM AS PERSONALIZATION_EVENT_KEY, d.CUSTOMER360_ID, d.PRODUCT_ID, d.ACTION,
  d.TOUCHED_AT AS EVENT_AT, ${dateKey('d.TOUCHED_AT')} AS DATE_KEY, d.RECOMMENDED_AS_OF, h.ALGORITHM, h.MODEL_VERSION, h.RANK,
  date_diff('day', d.RECOMMENDED_AS_OF, CAST(d.TOUCHED_AT AS DATE)) AS DAYS_AFTER_RECOMMENDATION, d.VALUE
FROM dated d JOIN g_recs_history h
  ON h.AS_OF_DATE = d.RECOMMENDED_AS_OF AND h.CUSTOMER360_ID = d.CUSTOMER360_ID AND h.PRODUCT_ID = d.PRODUCT_ID
ORDER BY 1`,
}), { dayColumn: 'EVENT_AT', extra: recommendationRuns() });

/**
 * The recommendation runs personalization events read, as an input of the day-partitioned maintainer: a day's rows
 * read only the latest run before that day, so a day recomputed reads that run's list, not every run; a run added,
 * removed or rewritten (its files' names and sizes) touches the days that take it as their latest earlier run.
 * Runs on or after the as-of date are not read (the as-of cut).
 */
function recommendationRuns(): ExtraInput {
  const RECS = `${GOLD_ROOT}/product_recommendations`;
  const runOf = (path: string) => /as_of_date=(\d{4}-\d{2}-\d{2})\//.exec(path)?.[1];
  /** The run a day takes: the latest before it. */
  const runFor = (runs: readonly string[], day: string) => runs.filter((r) => r < day).at(-1);
  return {
    async fingerprint(lake, asOf) {
      const out: Record<string, string[]> = {};
      for (const f of await lake.list(RECS)) {
        const run = runOf(f.path);
        if (run && run < asOf && f.path.endsWith('.parquet')) (out[run] ??= []).push(`${f.path.slice(RECS.length + 1)}:${f.size}`);
      }
      return Object.fromEntries(Object.keys(out).sort().map((r) => [r, out[r]!.sort().join(',')]));
    },
    touches(before, now, days) {
      const runs = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
      const changed = runs.filter((r) => before[r] !== now[r]);
      // A day whose latest earlier run, before or now, changed.
      return days.filter((d) => changed.some((c) => c === runFor(Object.keys(before).sort(), d) || c === runFor(Object.keys(now).sort(), d)));
    },
    async register(engine, lake, now, days) {
      const all = Object.keys(now).sort();
      const runs = days ? [...new Set(days.map((d) => runFor(all, d)).filter((r): r is string => r !== undefined))] : all;
      return registerRecommendationHistory(engine, lake, runs);
    },
  };
}
