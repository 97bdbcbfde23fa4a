// The faster query shapes of the behaviour and content datasets against the plain formulations they replaced, on
// generated inputs with ties, nulls and days spread over week and month boundaries: same rows, same types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { aggCustomerActivity, dimSession } from '../src/gold/behavior.ts';
import { customerDaily } from '../src/gold/daily-aggregates.ts';
import { dimContent } from '../src/gold/personalization.ts';

let e: Engine;
const P = { asOf: '2026-03-31', attributionWindowDays: 7 };

/** rows of a query as sorted JSON lines plus its column types: equal content and shape, order aside */
async function content(sql: string): Promise<{ types: string; rows: string[] }> {
  const types = await e.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
  const rows = (await e.all(sql)).map((r) => JSON.stringify(r)).sort();
  return { types: JSON.stringify(types.map((t) => [t.column_name, t.column_type])), rows };
}

beforeAll(async () => {
  e = await Engine.open();
  // 40 people over ~100 days; event times collide on purpose (ties broken by id), devices and categories partly null
  const h = (salt: string, n: number) => `CAST(hash(i, '${salt}') % ${n} AS INTEGER)`;
  await e.run(`CREATE TEMP TABLE s_events AS SELECT 'E' || lpad(CAST(i AS VARCHAR), 5, '0') AS EVENT_ID,
    CASE WHEN i % 50 = 0 THEN NULL ELSE 'P' || ${h('c', 40)} END AS CUSTOMER360_ID, 'S' || (i % 300) AS SESSION_ID,
    ['PAGE_VIEW', 'CART_ADD', 'SEARCH', 'CLICK'][1 + ${h('t', 4)}] AS EVENT_TYPE,
    TIMESTAMP '2026-01-01' + INTERVAL 1 HOUR * ${h('d', 2400)} AS EVENT_DATE,
    CASE WHEN i % 7 = 0 THEN NULL ELSE ['DESKTOP', 'MOBILE'][1 + ${h('v', 2)}] END AS DEVICE_TYPE,
    'PR' || ${h('p', 30)} AS PRODUCT_ID, 'https://x/' || ${h('u', 25)} AS PAGE_URL,
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'Title ' || ${h('ti', 9)} END AS PAGE_TITLE,
    CASE WHEN i % 5 = 0 THEN NULL ELSE 'Cat' || ${h('ca', 6)} END AS CATEGORY_VIEWED
  FROM range(6000) t(i)`);
  await e.run(`CREATE TEMP TABLE s_sessions AS SELECT 'P' || ${h('sc', 40)} AS CUSTOMER360_ID, TIMESTAMP '2026-01-01' + INTERVAL 1 HOUR * ${h('sd', 2400)} AS SESSION_START FROM range(900) t(i)`);
  await e.run(`CREATE TEMP TABLE s_transactions AS SELECT 'P' || ${h('tc', 40)} AS CUSTOMER360_ID, TIMESTAMP '2026-01-01' + INTERVAL 1 HOUR * ${h('td', 2400)} AS TRANSACTION_DATE,
    CAST(${h('ta', 10000)} / 100.0 AS DECIMAL(10,2)) AS TOTAL_AMOUNT, CASE WHEN i % 9 = 0 THEN 'RETURN' ELSE 'PURCHASE' END AS TRANSACTION_TYPE, 'COMPLETED' AS TRANSACTION_STATUS
  FROM range(700) t(i)`);
  await e.run(`CREATE TEMP TABLE s_engagement AS SELECT 'P' || ${h('ec', 40)} AS CUSTOMER360_ID, TIMESTAMP '2026-01-01' + INTERVAL 1 HOUR * ${h('ed', 2400)} AS ENGAGEMENT_DATE,
    ['OPENED', 'CLICKED', 'SENT'][1 + ${h('ea', 3)}] AS ENGAGEMENT_ACTION FROM range(800) t(i)`);
  await e.run(`CREATE TEMP TABLE s_tickets AS SELECT 'P' || ${h('kc', 40)} AS CUSTOMER360_ID, TIMESTAMP '2026-01-01' + INTERVAL 1 HOUR * ${h('kd', 2400)} AS CREATION_DATE FROM range(60) t(i)`);
  // the per-customer-day aggregate over all of it (one day's rows depend only on that day's rows, so computed at once
  // they are what day-by-day maintenance gives); columns it reads that these tables lack are null, sources absent empty
  await e.run(`ALTER TABLE s_transactions ADD COLUMN LOYALTY_POINTS_EARNED INTEGER; ALTER TABLE s_transactions ADD COLUMN LOYALTY_POINTS_REDEEMED INTEGER`);
  await e.run(`ALTER TABLE s_tickets ADD COLUMN TICKET_STATUS VARCHAR; ALTER TABLE s_tickets ADD COLUMN CUSTOMER_SATISFACTION INTEGER; ALTER TABLE s_tickets ADD COLUMN TOTAL_RESOLUTION_TIME INTEGER`);
  await e.run(`CREATE TEMP TABLE s_interactions (CUSTOMER360_ID VARCHAR, INTERACTION_DATE TIMESTAMP, SENTIMENT_SCORE DECIMAL(3,2), SATISFACTION_SCORE INTEGER)`);
  await e.run(`CREATE TEMP TABLE s_ext_sentiment (CUSTOMER360_ID VARCHAR, SENTIMENT_DATE TIMESTAMP, SENTIMENT_SCORE DECIMAL(3,2), MENTION_COUNT INTEGER)`);
  await e.run(`CREATE TEMP TABLE g_customer_daily AS ${customerDaily.daySql('s_')}`);
  // dim_session reads s_sessions with more columns: give it sessions of its own
  await e.run(`CREATE TEMP TABLE s_sessions_full AS SELECT 'S' || i AS SESSION_ID, 'P1' AS CUSTOMER360_ID, TIMESTAMP '2026-02-01' AS SESSION_START, TIMESTAMP '2026-02-01 00:10' AS SESSION_END,
    CAST(NULL AS INTEGER) AS SESSION_DURATION, CAST(NULL AS INTEGER) AS PAGE_VIEWS, CAST(NULL AS BOOLEAN) AS CONVERSION_EVENT, CAST(NULL AS DECIMAL(10,2)) AS CONVERSION_VALUE,
    CAST(NULL AS VARCHAR) AS TRAFFIC_SOURCE, CAST(NULL AS VARCHAR) AS CAMPAIGN_ID FROM range(300) t(i)`);
});

afterAll(() => e.close());

describe('Gold query shapes', () => {
  it('agg_customer_activity (days from the per-customer-day aggregate, then weeks and months from the days) = GROUPING SETS over the raw sources', async () => {
    const reference = `WITH parts AS (
  SELECT CUSTOMER360_ID, CAST(EVENT_DATE AS DATE) AS day, count(*) AS EVENTS, count(*) FILTER (WHERE EVENT_TYPE = 'PAGE_VIEW') AS PAGE_VIEWS,
    count(*) FILTER (WHERE EVENT_TYPE = 'CART_ADD') AS CART_ADDS, count(*) FILTER (WHERE EVENT_TYPE = 'SEARCH') AS SEARCHES,
    0 AS SESSIONS, 0 AS ORDERS, CAST(0 AS DECIMAL(18,2)) AS SPEND, 0 AS OPENS, 0 AS CLICKS, 0 AS TICKETS
  FROM s_events WHERE CUSTOMER360_ID IS NOT NULL GROUP BY 1, 2
  UNION ALL SELECT CUSTOMER360_ID, CAST(SESSION_START AS DATE), 0, 0, 0, 0, count(*), 0, 0, 0, 0, 0 FROM s_sessions GROUP BY 1, 2
  UNION ALL SELECT CUSTOMER360_ID, CAST(TRANSACTION_DATE AS DATE), 0, 0, 0, 0, 0, count(*), CAST(sum(TOTAL_AMOUNT) AS DECIMAL(18,2)), 0, 0, 0
    FROM s_transactions WHERE TRANSACTION_TYPE = 'PURCHASE' AND TRANSACTION_STATUS = 'COMPLETED' GROUP BY 1, 2
  UNION ALL SELECT CUSTOMER360_ID, CAST(ENGAGEMENT_DATE AS DATE), 0, 0, 0, 0, 0, 0, 0,
    count(*) FILTER (WHERE ENGAGEMENT_ACTION = 'OPENED'), count(*) FILTER (WHERE ENGAGEMENT_ACTION = 'CLICKED'), 0 FROM s_engagement GROUP BY 1, 2
  UNION ALL SELECT CUSTOMER360_ID, CAST(CREATION_DATE AS DATE), 0, 0, 0, 0, 0, 0, 0, 0, 0, count(*) FROM s_tickets GROUP BY 1, 2)
SELECT CASE WHEN GROUPING(day) = 0 THEN 'DAY' WHEN GROUPING(week) = 0 THEN 'WEEK' ELSE 'MONTH' END AS GRAIN,
  CAST(COALESCE(day, week, month) AS DATE) AS PERIOD_START, CUSTOMER360_ID,
  ${['EVENTS', 'PAGE_VIEWS', 'CART_ADDS', 'SEARCHES', 'SESSIONS', 'ORDERS', 'SPEND', 'OPENS', 'CLICKS', 'TICKETS'].map((m) => (m === 'SPEND' ? `CAST(sum(${m}) AS DECIMAL(18,2)) AS ${m}` : `CAST(sum(${m}) AS BIGINT) AS ${m}`)).join(', ')}
FROM (SELECT *, CAST(date_trunc('week', day) AS DATE) AS week, CAST(date_trunc('month', day) AS DATE) AS month FROM parts)
GROUP BY GROUPING SETS ((CUSTOMER360_ID, day), (CUSTOMER360_ID, week), (CUSTOMER360_ID, month))`;
    const got = await content(aggCustomerActivity.sql!(P));
    const want = await content(reference);
    expect(got.rows.length).toBeGreaterThan(1000);
    expect(got.types).toBe(want.types);
    expect(got.rows).toEqual(want.rows);
  });

  it('dim_session and dim_content pick the same first/latest values as first(... ORDER BY ...)', async () => {
    await e.run('ALTER TABLE s_sessions RENAME TO s_sessions_agg');
    await e.run('ALTER TABLE s_sessions_full RENAME TO s_sessions');
    try {
      const session = dimSession.sql!(P);
      const sessionRef = session.replace(/arg_min_null\(DEVICE_TYPE, \{[^}]*\}\)/, 'first(DEVICE_TYPE ORDER BY EVENT_DATE, EVENT_ID)');
      expect(sessionRef).not.toBe(session);
      const got = await content(session);
      expect(got).toEqual(await content(sessionRef));
      expect(got.rows.some((r) => r.includes('"DEVICE_TYPE":null'))).toBe(true);
    } finally {
      await e.run('ALTER TABLE s_sessions RENAME TO s_sessions_full');
      await e.run('ALTER TABLE s_sessions_agg RENAME TO s_sessions');
    }
    // dim_content also reads items joined to transactions: empty ones suffice for the event side
    await e.run(`CREATE TEMP TABLE s_items AS SELECT 'I' AS ITEM_ID, 'T' AS TRANSACTION_ID, 'PR1' AS PRODUCT_ID, 'n' AS PRODUCT_NAME, 'c' AS CATEGORY, 'b' AS BRAND WHERE false`);
    await e.run(`ALTER TABLE s_transactions ADD COLUMN TRANSACTION_ID VARCHAR`);
    const content1 = dimContent.sql!(P);
    const contentRef = content1.replace(/arg_min_null\((\w+), \{[^}]*\}\)/g, 'first($1 ORDER BY EVENT_DATE DESC, EVENT_ID)');
    expect(content1.match(/arg_min_null\(/g)?.length).toBe(3);
    expect(contentRef).not.toMatch(/arg_min_null\(/);
    const got = await content(content1);
    expect(got).toEqual(await content(contentRef));
    expect(got.rows.some((r) => r.includes('"TITLE":"Title'))).toBe(true);
  });

  it('date keys by date-part arithmetic equal strftime keys', async () => {
    const n = await e.scalar(`SELECT count(*) FROM (SELECT TIMESTAMP '1999-12-31 23:59:59' + INTERVAL 7 HOUR * i AS ts FROM range(20000) t(i))
      WHERE CAST(year(ts) * 10000 + month(ts) * 100 + day(ts) AS INTEGER) <> CAST(strftime(CAST(ts AS DATE), '%Y%m%d') AS INTEGER)`);
    expect(Number(n)).toBe(0);
  });
});
