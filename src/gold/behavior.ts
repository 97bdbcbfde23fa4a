// CUSTOMER_BEHAVIOR datasets: the behavioural event fact, sessions, touchpoints, time of day, daily/weekly/monthly
// activity per customer and per touchpoint, and the view -> cart -> purchase funnel.
// A touchpoint is where a person met the brand: DIGITAL_<device>, MESSAGE_<engagement type>, COMMERCE_<channel>,
// SERVICE_<interaction type>.
import { T } from '../warehouse/types.ts';
import { byDay } from './day-partitioned.ts';
import { customerDaily, customerTouchpointDaily } from './daily-aggregates.ts';
import { derivedByDay } from './derived-by-day.ts';
import { DATE_KEY, ID, dateKey, gold } from './dataset.ts';
const timeKey = (ts: string) => `CAST(hour(${ts}) * 100 + minute(${ts}) AS INTEGER)`;

export const factBehavioralEvents = byDay(gold({
  name: 'fact_behavioral_events',
  description: 'Behavioural events on or before the as-of date with date, time and touchpoint keys',
  grain: 'one row per EVENT_ID',
  job: 'gold-behavior',
  retention: { column: 'EVENT_AT', from: ['CUSTOMER_BEHAVIORAL_EVENTS'] },
  primaryKey: ['EVENT_ID'],
  columns: [
    ['EVENT_ID', T.varchar, 'Event id'], ID, ['SESSION_ID', T.varchar, 'Session (DIM_SESSION)'], DATE_KEY, ['TIME_KEY', T.integer, 'Time of day HHMM (DIM_TIME)'],
    ['EVENT_AT', T.timestamp, 'Event time (UTC)'], ['EVENT_TYPE', T.varchar, 'PAGE_VIEW, CLICK, SCROLL, SEARCH or CART_ADD'],
    ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint (DIM_TOUCHPOINT)'], ['PAGE_URL', T.varchar, 'Page URL'], ['PRODUCT_ID', T.varchar, 'Product viewed'],
    ['CATEGORY_VIEWED', T.varchar, 'Category viewed'], ['TIME_ON_PAGE', T.integer, 'Seconds on page'], ['SCROLL_DEPTH', T.double, 'Scroll depth 0..1'],
    ['DEVICE_TYPE', T.varchar, 'DESKTOP, MOBILE or TABLET'], ['BROWSER', T.varchar, 'Browser'], ['LOCATION_COUNTRY', T.varchar, 'Country'],
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'FACT_BEHAVIORAL_EVENTS', strategy: 'snapshot', clusterBy: ['DATE_KEY'], partitionBy: 'DATE_KEY',
    comment: 'Behavioural events (page views, clicks, scrolls, searches, cart adds) on or before the as-of date',
  },
  sql: () => `SELECT EVENT_ID, CUSTOMER360_ID, SESSION_ID, ${dateKey('EVENT_DATE')} AS DATE_KEY, ${timeKey('EVENT_DATE')} AS TIME_KEY,
  EVENT_DATE AS EVENT_AT, EVENT_TYPE, 'DIGITAL_' || COALESCE(DEVICE_TYPE, 'UNKNOWN') AS TOUCHPOINT_KEY,
  PAGE_URL, PRODUCT_ID, CATEGORY_VIEWED, TIME_ON_PAGE, CAST(SCROLL_DEPTH AS DOUBLE) AS SCROLL_DEPTH,
  DEVICE_TYPE, BROWSER, LOCATION_COUNTRY
FROM s_events`,
}), { dayColumn: 'EVENT_AT' });

export const dimSession = byDay(gold({
  name: 'dim_session',
  description: 'Sessions: duration, pages, events, bounce, conversion, source and device',
  grain: 'one row per SESSION_ID',
  job: 'gold-behavior',
  retention: { column: 'SESSION_START', from: ['CUSTOMER_SESSION_DATA'] },
  primaryKey: ['SESSION_ID'],
  columns: [
    ['SESSION_ID', T.varchar, 'Session id'], ID, DATE_KEY, ['SESSION_START', T.timestamp, 'Start (UTC)'], ['SESSION_END', T.timestamp, 'End (UTC)'],
    ['DURATION_SECONDS', T.integer, 'Duration in seconds'], ['PAGE_VIEWS', T.bigint, 'Page views'], ['EVENT_COUNT', T.bigint, 'Behavioural events in the session'],
    ['CART_ADDS', T.bigint, 'Cart adds in the session'], ['IS_BOUNCE', T.boolean, 'At most one page view'], ['CONVERTED', T.boolean, 'The session converted'],
    ['CONVERSION_VALUE', T.money, 'Conversion value'], ['TRAFFIC_SOURCE', T.varchar, 'Traffic source'], ['CAMPAIGN_ID', T.varchar, 'Campaign that brought the session'],
    ['DEVICE_TYPE', T.varchar, 'Device of the first event'],
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'DIM_SESSION', strategy: 'snapshot', clusterBy: ['DATE_KEY'],
    comment: 'Sessions with duration, pages, events, bounce and conversion',
  },
  sql: () => `WITH ev AS (
  SELECT SESSION_ID, count(*) AS EVENT_COUNT, count(*) FILTER (WHERE EVENT_TYPE = 'PAGE_VIEW') AS EVENT_PAGE_VIEWS,
    count(*) FILTER (WHERE EVENT_TYPE = 'CART_ADD') AS CART_ADDS,
    -- = first(DEVICE_TYPE ORDER BY EVENT_DATE, EVENT_ID) (both never null in s_events), as a hash aggregate, not a sort
    arg_min_null(DEVICE_TYPE, {'at': EVENT_DATE, 'id': EVENT_ID}) AS DEVICE_TYPE
  FROM s_events WHERE SESSION_ID IS NOT NULL GROUP BY SESSION_ID
)
SELECT s.SESSION_ID, s.CUSTOMER360_ID, ${dateKey('s.SESSION_START')} AS DATE_KEY, s.SESSION_START, s.SESSION_END,
  COALESCE(s.SESSION_DURATION, CAST(date_diff('second', s.SESSION_START, s.SESSION_END) AS INTEGER)) AS DURATION_SECONDS,
  COALESCE(s.PAGE_VIEWS, ev.EVENT_PAGE_VIEWS, 0) AS PAGE_VIEWS,
  COALESCE(ev.EVENT_COUNT, 0) AS EVENT_COUNT, COALESCE(ev.CART_ADDS, 0) AS CART_ADDS,
  COALESCE(s.PAGE_VIEWS, ev.EVENT_PAGE_VIEWS, 0) <= 1 AS IS_BOUNCE,
  COALESCE(s.CONVERSION_EVENT, false) AS CONVERTED, CAST(s.CONVERSION_VALUE AS DECIMAL(18,2)) AS CONVERSION_VALUE,
  s.TRAFFIC_SOURCE, s.CAMPAIGN_ID, ev.DEVICE_TYPE
FROM s_sessions s LEFT JOIN ev USING (SESSION_ID)`,
}), { dayColumn: 'SESSION_START', related: { events: { key: 'SESSION_ID', of: 'sessions' } } });

export const dimTouchpoint = gold({
  name: 'dim_touchpoint',
  description: 'Touchpoints with their journey statistics: touches, people reached, purchases they assisted',
  grain: 'one row per TOUCHPOINT_KEY',
  job: 'gold-behavior',
  primaryKey: ['TOUCHPOINT_KEY'],
  columns: [
    ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint key'], ['TOUCHPOINT_TYPE', T.varchar, 'DIGITAL, MESSAGE, COMMERCE or SERVICE'], ['CHANNEL', T.varchar, 'Device, message type, sales channel or service type'],
    ['TOUCHES', T.bigint, 'Touches'], ['CUSTOMERS', T.bigint, 'People reached'], ['FIRST_SEEN_DATE', T.date, 'First touch'], ['LAST_SEEN_DATE', T.date, 'Latest touch'],
    ['ASSISTED_PURCHASES', T.bigint, 'Completed purchases whose buyer used the touchpoint in the 7 days up to the purchase'],
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'DIM_TOUCHPOINT', strategy: 'snapshot', clusterBy: ['TOUCHPOINT_TYPE'],
    comment: 'Touchpoints (DIGITAL_<device>, MESSAGE_<type>, COMMERCE_<channel>, SERVICE_<type>) with journey statistics',
  },
  // From the per-customer-touchpoint-day aggregate. A purchase is assisted by a touchpoint its buyer used in the 7 days
  // up to it: per buyer and purchase day, each touchpoint used in the window counts that day's completed purchases once.
  sql: () => `WITH touch AS (SELECT DISTINCT CUSTOMER360_ID, ACTIVITY_DATE AS day, TOUCHPOINT_KEY FROM g_customer_touchpoint_daily WHERE CUSTOMER360_ID IS NOT NULL),
purchases AS (SELECT CUSTOMER360_ID, ACTIVITY_DATE AS day, ORDERS FROM g_customer_daily WHERE ORDERS > 0),
assisted AS (
  SELECT TOUCHPOINT_KEY, CAST(sum(ORDERS) AS BIGINT) AS n
  FROM (SELECT DISTINCT p.CUSTOMER360_ID, p.day, p.ORDERS, t.TOUCHPOINT_KEY
        FROM purchases p JOIN touch t ON t.CUSTOMER360_ID = p.CUSTOMER360_ID AND t.day BETWEEN p.day - 7 AND p.day)
  GROUP BY 1
),
stats AS (
  SELECT TOUCHPOINT_KEY, CAST(sum(TOUCHES) AS BIGINT) AS TOUCHES, count(DISTINCT CUSTOMER360_ID) AS CUSTOMERS,
    min(ACTIVITY_DATE) AS FIRST_SEEN_DATE, max(ACTIVITY_DATE) AS LAST_SEEN_DATE
  FROM g_customer_touchpoint_daily GROUP BY TOUCHPOINT_KEY
)
SELECT s.TOUCHPOINT_KEY, split_part(s.TOUCHPOINT_KEY, '_', 1) AS TOUCHPOINT_TYPE,
  substr(s.TOUCHPOINT_KEY, length(split_part(s.TOUCHPOINT_KEY, '_', 1)) + 2) AS CHANNEL,
  s.TOUCHES, s.CUSTOMERS, s.FIRST_SEEN_DATE, s.LAST_SEEN_DATE,
  COALESCE(a.n, 0) AS ASSISTED_PURCHASES
FROM stats s LEFT JOIN assisted a USING (TOUCHPOINT_KEY)
ORDER BY 1`,
});

export const dimTime = gold({
  name: 'dim_time',
  description: 'Minutes of the day (TIME_KEY = hour * 100 + minute) with hour and day part',
  grain: 'one row per minute of the day',
  job: 'gold-behavior',
  primaryKey: ['TIME_KEY'],
  columns: [['TIME_KEY', T.integer, 'HHMM'], ['HOUR', T.integer, 'Hour 0-23'], ['MINUTE', T.integer, 'Minute 0-59'], ['DAY_PART', T.varchar, 'NIGHT, MORNING, AFTERNOON or EVENING']],
  warehouse: { schema: 'CUSTOMER_BEHAVIOR', table: 'DIM_TIME', strategy: 'snapshot', clusterBy: ['TIME_KEY'], comment: 'Minutes of the day' },
  sql: () => `SELECT CAST(h * 100 + m AS INTEGER) AS TIME_KEY, CAST(h AS INTEGER) AS HOUR, CAST(m AS INTEGER) AS MINUTE,
  CASE WHEN h < 6 THEN 'NIGHT' WHEN h < 12 THEN 'MORNING' WHEN h < 18 THEN 'AFTERNOON' ELSE 'EVENING' END AS DAY_PART
FROM range(24) AS a(h), range(60) AS b(m) ORDER BY 1`,
});

/** The days of agg_customer_activity: customer days with events, sessions, completed purchases, engagement or tickets. */
const ACTIVITY_DAYS_SQL = `SELECT * FROM g_customer_daily WHERE EVENTS > 0 OR SESSIONS > 0 OR ORDERS > 0 OR ENGAGEMENTS > 0 OR TICKETS > 0`;

const METRICS = ['EVENTS', 'PAGE_VIEWS', 'CART_ADDS', 'SEARCHES', 'SESSIONS', 'ORDERS', 'SPEND', 'OPENS', 'CLICKS', 'TICKETS'];

/** Days, ISO weeks (from Monday) and months in one pass: GROUPING SETS (used where counts are distinct, so cannot roll up). */
const GRAIN_SQL = `CASE WHEN GROUPING(day) = 0 THEN 'DAY' WHEN GROUPING(week) = 0 THEN 'WEEK' ELSE 'MONTH' END AS GRAIN,
  CAST(COALESCE(day, week, month) AS DATE) AS PERIOD_START`;
const GRAIN_FROM = (relation: string) =>
  `(SELECT *, CAST(date_trunc('week', day) AS DATE) AS week, CAST(date_trunc('month', day) AS DATE) AS month FROM ${relation})`;

export const aggCustomerActivity = derivedByDay(gold({
  name: 'agg_customer_activity',
  description: 'Daily, weekly and monthly activity per customer (GRAIN DAY | WEEK | MONTH, PERIOD_START)',
  grain: 'one row per (GRAIN, PERIOD_START, CUSTOMER360_ID) with any activity',
  job: 'gold-behavior',
  primaryKey: ['GRAIN', 'PERIOD_START', 'CUSTOMER360_ID'],
  columns: [
    ['GRAIN', T.varchar, 'DAY, WEEK (ISO, from Monday) or MONTH'], ['PERIOD_START', T.date, 'First day of the period'], ID,
    ['EVENTS', T.bigint, 'Behavioural events'], ['PAGE_VIEWS', T.bigint, 'Page views'], ['CART_ADDS', T.bigint, 'Cart adds'], ['SEARCHES', T.bigint, 'Searches'],
    ['SESSIONS', T.bigint, 'Sessions'], ['ORDERS', T.bigint, 'Completed purchases'], ['SPEND', T.money, 'Completed purchase amount'],
    ['OPENS', T.bigint, 'Messages opened'], ['CLICKS', T.bigint, 'Messages clicked'], ['TICKETS', T.bigint, 'Tickets created'],
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'AGG_CUSTOMER_ACTIVITY', strategy: 'snapshot', clusterBy: ['GRAIN', 'PERIOD_START'],
    comment: 'Daily, weekly and monthly activity per person',
  },
  // The days from the per-customer-day aggregate, then weeks and months rolled up from the days (sums of sums are
  // exact). Counts are summed as INTEGER (a person's count in one day, week or month fits), which DuckDB sums faster.
  sql: () => {
    // day counts stay INTEGER (a person's count in one day fits) so the week and month sums take the fast path too
    const sums = (type: string) =>
      METRICS.map((m) => (m === 'SPEND' ? `CAST(sum(${m}) AS DECIMAL(18,2)) AS ${m}` : `CAST(sum(CAST(${m} AS INTEGER)) AS ${type}) AS ${m}`)).join(', ');
    const rollup = (grain: string, unit: string) =>
      `SELECT '${grain}' AS GRAIN, CAST(date_trunc('${unit}', day) AS DATE) AS PERIOD_START, CUSTOMER360_ID, ${sums('BIGINT')}
FROM days GROUP BY CUSTOMER360_ID, PERIOD_START`;
    return `WITH days AS MATERIALIZED (SELECT CUSTOMER360_ID, ACTIVITY_DATE AS day, ${METRICS.map((m) => (m === 'SPEND' ? `CAST(${m} AS DECIMAL(18,2)) AS ${m}` : `CAST(${m} AS INTEGER) AS ${m}`)).join(', ')} FROM (${ACTIVITY_DAYS_SQL}))
SELECT 'DAY' AS GRAIN, day AS PERIOD_START, CUSTOMER360_ID, ${METRICS.map((m) => (m === 'SPEND' ? m : `CAST(${m} AS BIGINT) AS ${m}`)).join(', ')} FROM days
UNION ALL
${rollup('WEEK', 'week')}
UNION ALL
${rollup('MONTH', 'month')}`;
  },
}), { dayColumn: 'PERIOD_START', derivedFrom: [customerDaily], periods: ['DAY', 'WEEK', 'MONTH'] });

export const aggTouchpointActivity = derivedByDay(gold({
  name: 'agg_touchpoint_activity',
  description: 'Daily, weekly and monthly touches and people reached per touchpoint',
  grain: 'one row per (GRAIN, PERIOD_START, TOUCHPOINT_KEY)',
  job: 'gold-behavior',
  primaryKey: ['GRAIN', 'PERIOD_START', 'TOUCHPOINT_KEY'],
  columns: [['GRAIN', T.varchar, 'DAY, WEEK or MONTH'], ['PERIOD_START', T.date, 'First day of the period'], ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint'], ['TOUCHES', T.bigint, 'Touches'], ['CUSTOMERS', T.bigint, 'People reached']],
  warehouse: { schema: 'CUSTOMER_BEHAVIOR', table: 'AGG_TOUCHPOINT_ACTIVITY', strategy: 'snapshot', clusterBy: ['GRAIN', 'PERIOD_START'] },
  sql: () => `SELECT ${GRAIN_SQL}, TOUCHPOINT_KEY, CAST(sum(TOUCHES) AS BIGINT) AS TOUCHES, count(DISTINCT CUSTOMER360_ID) AS CUSTOMERS
FROM ${GRAIN_FROM('(SELECT *, ACTIVITY_DATE AS day FROM g_customer_touchpoint_daily)')}
GROUP BY GROUPING SETS ((TOUCHPOINT_KEY, day), (TOUCHPOINT_KEY, week), (TOUCHPOINT_KEY, month))
ORDER BY 1, 2, 3`,
}), { dayColumn: 'PERIOD_START', derivedFrom: [customerTouchpointDaily], periods: ['DAY', 'WEEK', 'MONTH'] });

/**
 * The daily funnel over people: viewers (any page view), of those the ones who added to cart the same day, of those
 * the ones who completed a purchase the same day. Stages are nested, so rates never exceed 1.
 */
export const aggFunnelDaily = derivedByDay(gold({
  name: 'agg_funnel_daily',
  description: 'Daily view -> cart -> purchase funnel over identified customers',
  grain: 'one row per CALENDAR_DATE with viewers',
  job: 'gold-behavior',
  primaryKey: ['CALENDAR_DATE'],
  columns: [
    ['CALENDAR_DATE', T.date, 'Day'], DATE_KEY, ['VIEWERS', T.bigint, 'People with a page view'], ['CART_ADDERS', T.bigint, 'Viewers who added to cart'],
    ['PURCHASERS', T.bigint, 'Cart adders who completed a purchase'], ['VIEW_TO_CART_RATE', T.double, 'CART_ADDERS / VIEWERS'],
    ['CART_TO_PURCHASE_RATE', T.double, 'PURCHASERS / CART_ADDERS'], ['VIEW_TO_PURCHASE_RATE', T.double, 'PURCHASERS / VIEWERS'],
  ],
  warehouse: {
    schema: 'CUSTOMER_BEHAVIOR', table: 'AGG_FUNNEL_DAILY', strategy: 'snapshot', clusterBy: ['CALENDAR_DATE'],
    comment: 'Daily view -> cart -> purchase funnel over people (stages nested within the day)',
  },
  sql: () => `WITH f AS (
  SELECT ACTIVITY_DATE AS day, CUSTOMER360_ID, CART_ADDS > 0 AS carted, CART_ADDS > 0 AND ORDERS > 0 AS purchased
  FROM g_customer_daily WHERE PAGE_VIEWS > 0
)
SELECT day AS CALENDAR_DATE, ${dateKey('day')} AS DATE_KEY, count(*) AS VIEWERS, count(*) FILTER (WHERE carted) AS CART_ADDERS,
  count(*) FILTER (WHERE purchased) AS PURCHASERS,
  ROUND(count(*) FILTER (WHERE carted) / count(*), 4) AS VIEW_TO_CART_RATE,
  ROUND(count(*) FILTER (WHERE purchased) / NULLIF(count(*) FILTER (WHERE carted), 0), 4) AS CART_TO_PURCHASE_RATE,
  ROUND(count(*) FILTER (WHERE purchased) / count(*), 4) AS VIEW_TO_PURCHASE_RATE
FROM f GROUP BY day ORDER BY day`,
}), { dayColumn: 'CALENDAR_DATE', derivedFrom: [customerDaily], periods: ['DAY'] });
