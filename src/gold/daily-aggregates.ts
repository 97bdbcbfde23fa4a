// Per-customer-day and per-customer-touchpoint-day aggregates: the compact state Gold's profile, windows, RFM,
// activity, funnel and touchpoint datasets are derived from, so a daily run reads the day's Silver rows plus these,
// not every event ever. Each is partitioned by day (gold/aggregates/<name>/event_date=D/) and maintained for the
// touched days only: the Silver change log (the `changes` entries of each Silver dataset's _state.json since the
// sequence number this dataset consumed) says which days changed; those days are recomputed whole from the Silver
// partitions of the same days (a row's day is its table's partition value), everything else is kept. A day's rows
// depend only on that day's Silver rows, so maintaining day by day gives what one rebuild gives.
import { columns } from '../catalogue/dataset.ts';
import { readDatasetState } from '../catalogue/partitioned.ts';
import type { Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { JobContext } from '../runtime/job.ts';
import { T } from '../warehouse/types.ts';
import { IS_PURCHASE, IS_RETURN } from './dataset.ts';
import { dayPartitionFiles, maintainDayPartitioned, registerDayPartitioned, type DayPartitioned, type MaintainResult } from './day-partitioned.ts';
import { SILVER_TABLES, silverPathOf } from './silver-inputs.ts';
import { LifetimeMaintainer, lifetime, registerLifetime, type Lifetime } from './lifetime.ts';
import { addDays } from '../runtime/days.ts';
import { dateLit } from './paths.ts';
import { readDatasetSql } from '../catalogue/partitioned.ts';
import { emptySql } from '../catalogue/runner.ts';

/** Outside gold/customer360/, where every folder is an as-of snapshot. */
export const AGGREGATES_ROOT = 'gold/aggregates';

const ID_DAY = [
  ['CUSTOMER360_ID', T.varchar, 'Person id (CUSTOMER360_ID)'],
  ['ACTIVITY_DATE', T.date, 'Day of the activity (the event date of the Silver rows)'],
] as const;

/** A daily aggregate: a day-partitioned dataset (day-partitioned.ts) whose day column is ACTIVITY_DATE. */
export type DailyAggregate = DayPartitioned & { daySql(prefix: string): string };

export function aggregate(d: Omit<DailyAggregate, 'layer' | 'path' | 'maintenance' | 'inputs' | 'columns' | 'dayColumn'> & { columns: Parameters<typeof columns>[0] }): DailyAggregate {
  return {
    ...d,
    layer: 'gold',
    path: `${AGGREGATES_ROOT}/${d.name}`,
    maintenance: 'incremental-by-time',
    dayColumn: 'ACTIVITY_DATE',
    inputs: d.sources.map((s) => SILVER_TABLES[s].toLowerCase()).sort(),
    columns: columns(d.columns),
  };
}

const n = (name: string, comment: string) => [name, T.integer, comment] as const;
const sum = (c: string) => `COALESCE(sum(${c}), 0)`;

/** Metric columns of customer_daily (all non-null; zero when the day has none). */
const CUSTOMER_DAY_METRICS = [
  n('EVENTS', 'Behavioural events'), n('PAGE_VIEWS', 'Page views'), n('CART_ADDS', 'Cart adds'), n('SEARCHES', 'Searches'),
  n('SESSIONS', 'Sessions started'),
  n('TRANSACTIONS', 'Transactions of any type and status'), n('ORDERS', 'Completed purchases'),
  ['SPEND', T.money, 'Completed purchase amount'] as const,
  n('RETURNS', 'Completed returns and refunds'),
  ['LOYALTY_POINTS_EARNED', T.bigint, 'Loyalty points earned on completed transactions'] as const,
  ['LOYALTY_POINTS_REDEEMED', T.bigint, 'Loyalty points redeemed on completed transactions'] as const,
  n('ENGAGEMENTS', 'Campaign engagement records (any action)'), n('OPENS', 'Messages opened'), n('CLICKS', 'Messages clicked'),
  n('TICKETS', 'Service tickets created'), n('OPEN_TICKETS', 'Of those, OPEN or IN_PROGRESS'),
  ['TICKET_SATISFACTION_SUM', T.bigint, 'Sum of CUSTOMER_SATISFACTION of the tickets'] as const, n('TICKET_SATISFACTION_N', 'Tickets with a satisfaction'),
  ['RESOLUTION_MINUTES_SUM', T.bigint, 'Sum of TOTAL_RESOLUTION_TIME of resolved or closed tickets'] as const, n('RESOLUTION_N', 'Resolved or closed tickets with a resolution time'),
  n('INTERACTIONS', 'Service interactions'),
  ['INTERACTION_SENTIMENT_SUM', T.money, 'Sum of SENTIMENT_SCORE of the interactions'] as const, n('INTERACTION_SENTIMENT_N', 'Interactions with a sentiment'),
  ['INTERACTION_SATISFACTION_SUM', T.bigint, 'Sum of SATISFACTION_SCORE of the interactions'] as const, n('INTERACTION_SATISFACTION_N', 'Interactions with a satisfaction'),
  ['EXTERNAL_SENTIMENT_SUM', T.money, 'Sum of third-party SENTIMENT_SCORE'] as const, n('EXTERNAL_SENTIMENT_N', 'Third-party sentiment records with a score'),
  ['EXTERNAL_MENTIONS', T.bigint, 'Third-party mentions'] as const,
] as const;

export const customerDaily = aggregate({
  name: 'customer_daily',
  description: 'Per person and day: activity counts and sums from every event table (the compact input of the profile, windows and activity datasets)',
  grain: 'one row per (CUSTOMER360_ID, ACTIVITY_DATE) with any activity',
  job: 'gold-daily',
  primaryKey: ['CUSTOMER360_ID', 'ACTIVITY_DATE'],
  sources: ['transactions', 'events', 'sessions', 'engagement', 'tickets', 'interactions', 'ext_sentiment'],
  columns: [...ID_DAY, ...CUSTOMER_DAY_METRICS],
  daySql: (d) => `WITH parts AS (
  SELECT CUSTOMER360_ID, CAST(EVENT_DATE AS DATE) AS day, count(*) AS EVENTS, count(*) FILTER (WHERE EVENT_TYPE = 'PAGE_VIEW') AS PAGE_VIEWS,
    count(*) FILTER (WHERE EVENT_TYPE = 'CART_ADD') AS CART_ADDS, count(*) FILTER (WHERE EVENT_TYPE = 'SEARCH') AS SEARCHES
  FROM ${d}events WHERE CUSTOMER360_ID IS NOT NULL AND EVENT_DATE IS NOT NULL GROUP BY 1, 2
  UNION ALL BY NAME
  SELECT CUSTOMER360_ID, CAST(SESSION_START AS DATE) AS day, count(*) AS SESSIONS
  FROM ${d}sessions WHERE CUSTOMER360_ID IS NOT NULL AND SESSION_START IS NOT NULL GROUP BY 1, 2
  UNION ALL BY NAME
  SELECT CUSTOMER360_ID, CAST(TRANSACTION_DATE AS DATE) AS day, count(*) AS TRANSACTIONS,
    count(*) FILTER (WHERE ${IS_PURCHASE}) AS ORDERS, sum(TOTAL_AMOUNT) FILTER (WHERE ${IS_PURCHASE}) AS SPEND,
    count(*) FILTER (WHERE ${IS_RETURN}) AS RETURNS,
    sum(LOYALTY_POINTS_EARNED) FILTER (WHERE TRANSACTION_STATUS = 'COMPLETED') AS LOYALTY_POINTS_EARNED,
    sum(LOYALTY_POINTS_REDEEMED) FILTER (WHERE TRANSACTION_STATUS = 'COMPLETED') AS LOYALTY_POINTS_REDEEMED
  FROM ${d}transactions WHERE CUSTOMER360_ID IS NOT NULL AND TRANSACTION_DATE IS NOT NULL GROUP BY 1, 2
  UNION ALL BY NAME
  SELECT CUSTOMER360_ID, CAST(ENGAGEMENT_DATE AS DATE) AS day, count(*) AS ENGAGEMENTS,
    count(*) FILTER (WHERE ENGAGEMENT_ACTION = 'OPENED') AS OPENS, count(*) FILTER (WHERE ENGAGEMENT_ACTION = 'CLICKED') AS CLICKS
  FROM ${d}engagement WHERE CUSTOMER360_ID IS NOT NULL AND ENGAGEMENT_DATE IS NOT NULL GROUP BY 1, 2
  UNION ALL BY NAME
  SELECT CUSTOMER360_ID, CAST(CREATION_DATE AS DATE) AS day, count(*) AS TICKETS,
    count(*) FILTER (WHERE TICKET_STATUS IN ('OPEN', 'IN_PROGRESS')) AS OPEN_TICKETS,
    sum(CUSTOMER_SATISFACTION) AS TICKET_SATISFACTION_SUM, count(CUSTOMER_SATISFACTION) AS TICKET_SATISFACTION_N,
    sum(TOTAL_RESOLUTION_TIME) FILTER (WHERE TICKET_STATUS IN ('RESOLVED', 'CLOSED')) AS RESOLUTION_MINUTES_SUM,
    count(TOTAL_RESOLUTION_TIME) FILTER (WHERE TICKET_STATUS IN ('RESOLVED', 'CLOSED')) AS RESOLUTION_N
  FROM ${d}tickets WHERE CUSTOMER360_ID IS NOT NULL AND CREATION_DATE IS NOT NULL GROUP BY 1, 2
  UNION ALL BY NAME
  SELECT CUSTOMER360_ID, CAST(INTERACTION_DATE AS DATE) AS day, count(*) AS INTERACTIONS,
    sum(SENTIMENT_SCORE) AS INTERACTION_SENTIMENT_SUM, count(SENTIMENT_SCORE) AS INTERACTION_SENTIMENT_N,
    sum(SATISFACTION_SCORE) AS INTERACTION_SATISFACTION_SUM, count(SATISFACTION_SCORE) AS INTERACTION_SATISFACTION_N
  FROM ${d}interactions WHERE CUSTOMER360_ID IS NOT NULL AND INTERACTION_DATE IS NOT NULL GROUP BY 1, 2
  UNION ALL BY NAME
  SELECT CUSTOMER360_ID, CAST(SENTIMENT_DATE AS DATE) AS day,
    sum(SENTIMENT_SCORE) AS EXTERNAL_SENTIMENT_SUM, count(SENTIMENT_SCORE) AS EXTERNAL_SENTIMENT_N, sum(MENTION_COUNT) AS EXTERNAL_MENTIONS
  FROM ${d}ext_sentiment WHERE CUSTOMER360_ID IS NOT NULL AND SENTIMENT_DATE IS NOT NULL GROUP BY 1, 2
)
SELECT CUSTOMER360_ID, day AS ACTIVITY_DATE, ${CUSTOMER_DAY_METRICS.map(([c]) => `${sum(c)} AS ${c}`).join(', ')}
FROM parts GROUP BY 1, 2`,
});

export const customerTouchpointDaily = aggregate({
  name: 'customer_touchpoint_daily',
  description: 'Per person, day and touchpoint: touches, completed purchases and the latest times (the input of touchpoint statistics and preferred channel and device)',
  grain: 'one row per (CUSTOMER360_ID, ACTIVITY_DATE, TOUCHPOINT_KEY, CHANNEL_VALUE); CUSTOMER360_ID null for touches of no known person',
  job: 'gold-daily',
  primaryKey: ['CUSTOMER360_ID', 'ACTIVITY_DATE', 'TOUCHPOINT_KEY', 'CHANNEL_VALUE'],
  sources: ['events', 'engagement', 'transactions', 'interactions'],
  columns: [
    ...ID_DAY,
    ['TOUCHPOINT_KEY', T.varchar, 'DIGITAL_<device>, MESSAGE_<engagement type>, COMMERCE_<channel> or SERVICE_<interaction type>'],
    ['CHANNEL_VALUE', T.varchar, 'The device, engagement type, sales channel or interaction type as recorded (null when absent)'],
    ['TOUCHES', T.integer, 'Touches'],
    ['PURCHASES', T.integer, 'Completed purchases (COMMERCE touchpoints)'],
    ['LAST_TOUCH_AT', T.timestamp, 'Latest touch of the day'],
    ['LAST_PURCHASE_AT', T.timestamp, 'Latest completed purchase of the day (COMMERCE touchpoints)'],
  ],
  daySql: (d) => `SELECT CUSTOMER360_ID, CAST(EVENT_DATE AS DATE) AS ACTIVITY_DATE, 'DIGITAL_' || COALESCE(DEVICE_TYPE, 'UNKNOWN') AS TOUCHPOINT_KEY,
  DEVICE_TYPE AS CHANNEL_VALUE, count(*) AS TOUCHES, 0 AS PURCHASES, max(EVENT_DATE) AS LAST_TOUCH_AT, CAST(NULL AS TIMESTAMP) AS LAST_PURCHASE_AT
FROM ${d}events WHERE EVENT_DATE IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT CUSTOMER360_ID, CAST(ENGAGEMENT_DATE AS DATE), 'MESSAGE_' || COALESCE(ENGAGEMENT_TYPE, 'UNKNOWN'), ENGAGEMENT_TYPE, count(*), 0, max(ENGAGEMENT_DATE), NULL
FROM ${d}engagement WHERE ENGAGEMENT_DATE IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT CUSTOMER360_ID, CAST(TRANSACTION_DATE AS DATE), 'COMMERCE_' || COALESCE(CHANNEL, 'UNKNOWN'), CHANNEL, count(*),
  count(*) FILTER (WHERE ${IS_PURCHASE}), max(TRANSACTION_DATE), max(TRANSACTION_DATE) FILTER (WHERE ${IS_PURCHASE})
FROM ${d}transactions WHERE TRANSACTION_DATE IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT CUSTOMER360_ID, CAST(INTERACTION_DATE AS DATE), 'SERVICE_' || COALESCE(INTERACTION_TYPE, 'UNKNOWN'), INTERACTION_TYPE, count(*), 0, max(INTERACTION_DATE), NULL
FROM ${d}interactions WHERE INTERACTION_DATE IS NOT NULL GROUP BY 1, 2, 3, 4`,
});

export const DAILY_AGGREGATES: readonly DailyAggregate[] = [customerDaily, customerTouchpointDaily];

/** A person's totals over every day of customer_daily (the profile's lifetime metrics; lifetime.ts). */
export const customerLifetime = lifetime({
  name: 'customer_lifetime',
  description: 'Per person: customer_daily summed over every day held, with the first and latest purchase day (the profile\'s lifetime totals)',
  of: customerDaily,
  key: ['CUSTOMER360_ID'],
  where: 'CUSTOMER360_ID IS NOT NULL',
  sums: CUSTOMER_DAY_METRICS.map(([c]) => c),
  extremes: [
    { name: 'FIRST_PURCHASE_DATE', fn: 'min', expr: 'ACTIVITY_DATE', filter: 'TRANSACTIONS > 0 AND ORDERS > 0', type: T.date, comment: 'First day with a completed purchase' },
    { name: 'LAST_PURCHASE_DATE', fn: 'max', expr: 'ACTIVITY_DATE', filter: 'TRANSACTIONS > 0 AND ORDERS > 0', type: T.date, comment: 'Latest day with a completed purchase' },
  ],
});

/** A person's touches and purchases per commerce channel and device over every day (preferred channel and device). */
export const customerTouchpointLifetime = lifetime({
  name: 'customer_touchpoint_lifetime',
  description: 'Per person, commerce channel or device: touches and completed purchases over every day held, with the latest times',
  of: customerTouchpointDaily,
  key: ['CUSTOMER360_ID', 'TOUCHPOINT_KEY', 'CHANNEL_VALUE'],
  where: "CUSTOMER360_ID IS NOT NULL AND CHANNEL_VALUE IS NOT NULL AND (starts_with(TOUCHPOINT_KEY, 'COMMERCE_') OR starts_with(TOUCHPOINT_KEY, 'DIGITAL_'))",
  sums: ['TOUCHES', 'PURCHASES'],
  extremes: [
    { name: 'LAST_TOUCH_AT', fn: 'max', expr: 'LAST_TOUCH_AT', filter: 'true', type: T.timestamp, comment: 'Latest touch' },
    { name: 'LAST_PURCHASE_AT', fn: 'max', expr: 'LAST_PURCHASE_AT', filter: 'PURCHASES > 0', type: T.timestamp, comment: 'Latest completed purchase' },
  ],
});

export const LIFETIMES: readonly Lifetime[] = [customerLifetime, customerTouchpointLifetime];

/**
 * Brings one aggregate up to date with Silver (day-partitioned.ts: the days the Silver change logs name), and its
 * lifetime totals with it (lifetime.ts: the recomputed days' new rows added, the rows they replace subtracted).
 */
export async function maintainAggregate(ctx: JobContext, engine: Engine, ds: DailyAggregate, o: { full: boolean }): Promise<MaintainResult & { lifetime?: { mode: string; dirty: number } }> {
  const lt = LIFETIMES.find((l) => l.of === ds);
  if (!lt) return maintainDayPartitioned(ctx, engine, ds, o);
  const m = new LifetimeMaintainer(ctx, engine, lt);
  await m.start(o.full);
  const r = await maintainDayPartitioned(ctx, engine, ds, { ...o, beforeCommit: (c) => m.prepare(c) });
  await m.commit();
  return { ...r, lifetime: { mode: m.mode, dirty: m.dirty } };
}

/** Whether every aggregate has consumed every Silver commit (a Gold job run alone then needs no maintenance). */
export async function aggregatesCurrent(lake: Lake): Promise<boolean> {
  for (const ds of DAILY_AGGREGATES) {
    const consumed = ((await readDatasetState(lake, ds.path))?.inputs as { silver?: Record<string, number> } | undefined)?.silver;
    if (!consumed) return false;
    for (const s of ds.sources) if ((consumed[s] ?? 0) !== ((await readDatasetState(lake, silverPathOf(s)))?.seq ?? 0)) return false;
  }
  return true;
}

/** Maintains every aggregate, reporting per dataset. */
export async function maintainAggregates(ctx: JobContext, engine: Engine, o: { full: boolean }): Promise<void> {
  for (const ds of DAILY_AGGREGATES) {
    const started = Date.now();
    const r = await maintainAggregate(ctx, engine, ds, o);
    ctx.report.inputs.push(...r.files);
    ctx.report.rowCounts[ds.name] = r.rows;
    ctx.report.metrics[`${ds.name}.maintain`] = { mode: r.mode, days: r.days, silverFiles: r.files.length, ms: Date.now() - started, ...(r.lifetime ? { lifetime: r.lifetime } : {}) };
    ctx.log.info(`gold ${ds.name}`, { mode: r.mode, days: r.days, rows: r.rows });
  }
}

/** The days of customer_daily the profile's windows read (WINDOWS: 7, 30 and 90 days up to the as-of date). */
export const RECENT_DAYS = 90;

/** The g_ relations over the aggregates (readers: a dataset's SQL naming them). */
export const AGGREGATE_RELATIONS = [...DAILY_AGGREGATES.map((d) => d.name), ...LIFETIMES.map((l) => l.name), 'customer_daily_recent'];

/**
 * Registers the g_<name> relations `sqls` read: views of the aggregates cut at the as-of date (empty relations with
 * the columns when absent), g_customer_daily_recent (its last RECENT_DAYS days up to the as-of date) and the lifetime
 * totals (registerLifetime). Returns the files read and, per lifetime, whether its state was read.
 */
export async function registerAggregates(engine: Engine, lake: Lake, asOf: string, sqls: readonly string[]): Promise<{ files: string[]; lifetimes: Record<string, string> }> {
  const read: string[] = [];
  const lifetimes: Record<string, string> = {};
  const uses = (name: string) => sqls.some((q) => new RegExp(`\\bg_${name}\\b`).test(q));
  for (const ds of DAILY_AGGREGATES) if (uses(ds.name)) read.push(...(await registerDayPartitioned(engine, lake, ds, asOf, `g_${ds.name}`)));
  if (uses('customer_daily_recent')) {
    const from = addDays(asOf, -(RECENT_DAYS - 1));
    const st = await readDatasetState(lake, customerDaily.path);
    const files = st ? Object.entries(st.partitions).filter(([p]) => p >= from && p <= asOf).flatMap(([, f]) => f).sort() : await dayPartitionFiles(lake, customerDaily.path, asOf);
    read.push(...files);
    await engine.run(`CREATE OR REPLACE TEMP VIEW g_customer_daily_recent AS SELECT * FROM ${await readDatasetSql(lake, files, emptySql(customerDaily))}
WHERE ACTIVITY_DATE BETWEEN ${dateLit(from)} AND ${dateLit(asOf)}`);
  }
  for (const lt of LIFETIMES) {
    if (!uses(lt.name)) continue;
    const r = await registerLifetime(engine, lake, lt, asOf, `g_${lt.name}`);
    read.push(...r.files);
    lifetimes[lt.name] = r.from;
  }
  return { files: read, lifetimes };
}
