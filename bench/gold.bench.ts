// Gold + warehouse load at a tenth of the seed's daily volume (scale 1: 200k customers, 5M events, 500k
// transactions), against a DuckDB floor measured in the same run: one full scan of the Silver inputs plus one write
// of the Gold outputs. Silver-layout inputs are generated with DuckDB SQL (deterministic hashes, no randomness).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bench } from '../src/cli/commands/bench.ts';
import { Engine, lit, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { GOLD_ROOT, SILVER_ROOT } from '../src/gold/paths.ts';
import { goldAggregation } from '../pipelines/gold.ts';
import { topoSort } from '../pipelines/ir.ts';
import { warehouseLoadJob } from '../jobs/warehouse-load.ts';
import { maxRssMb } from './measure.ts';

const AS_OF = '2026-03-31';

/** uniform integer in [0, n) from a hash of (i, salt) */
const h = (i: string, salt: string, n: number | string) => `CAST(hash(${i}, '${salt}') % ${n} AS BIGINT)`;

function silverSql(n: { customers: number; transactions: number; sessions: number; events: number; engagement: number; tickets: number }): Record<string, string> {
  const C = n.customers;
  const ts = (i: string, salt: string) => `(TIMESTAMP '${AS_OF} 23:59:00' - INTERVAL 1 SECOND * ${h(i, salt, 365 * 86400)})`;
  return {
    customers: `SELECT 'C' || i AS CUSTOMER_ID, 'P' || (i % ${C}) AS CUSTOMER360_ID,
        ['CRM', 'ECOMMERCE', 'POS'][1 + ${h('i', 'src', 3)}] AS _source_system,
        'First' || ${h('i', 'fn', 5000)} AS FIRST_NAME, 'Last' || ${h('i', 'ln', 20000)} AS LAST_NAME,
        'user' || i || '@example.com' AS EMAIL_ADDRESS, '+1 555 ' || lpad(CAST(${h('i', 'ph', 10000000)} AS VARCHAR), 7, '0') AS PHONE_NUMBER,
        DATE '1950-01-01' + CAST(${h('i', 'dob', 18000)} AS INTEGER) AS DATE_OF_BIRTH,
        CASE WHEN ${h('i', 'addr', 4)} > 0 THEN i || ' Main St' END AS ADDRESS_LINE_1, 'City' || ${h('i', 'city', 500)} AS CITY, 'CA' AS STATE_CODE,
        '9' || lpad(CAST(${h('i', 'zip', 10000)} AS VARCHAR), 4, '0') AS ZIP_CODE, 'US' AS COUNTRY_CODE,
        ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'][1 + ${h('i', 'tier', 4)}] AS LOYALTY_TIER, CAST(${h('i', 'pts', 5000)} AS INTEGER) AS LOYALTY_POINTS,
        DATE '2024-01-01' + CAST(${h('i', 'reg', 800)} AS INTEGER) AS REGISTRATION_DATE, DATE '${AS_OF}' - CAST(${h('i', 'login', 200)} AS INTEGER) AS LAST_LOGIN_DATE,
        'ACTIVE' AS CUSTOMER_STATUS, 0.9 AS _quality_score
      FROM range(${Math.round(C * 1.1)}) t(i)`,
    crosswalk: `SELECT 'T1' AS TENANT_ID, ['CRM', 'ECOMMERCE', 'POS'][1 + ${h('i', 'src', 3)}] AS SOURCE_SYSTEM, 'C' || i AS CUSTOMER_ID, 'P' || (i % ${C}) AS CUSTOMER360_ID
      FROM range(${Math.round(C * 1.1)}) t(i)`,
    transactions: `SELECT 'T' || i AS TRANSACTION_ID, 'C' || ${h('i', 'c', C)} AS CUSTOMER_ID, 'P' || ${h('i', 'c', C)} AS CUSTOMER360_ID,
        ['POS', 'ECOMMERCE', 'MOBILE', 'SOCIAL'][1 + ${h('i', 'ch', 4)}] AS CHANNEL, ${ts('i', 'ts')} AS TRANSACTION_DATE,
        CASE WHEN ${h('i', 'ty', 20)} = 0 THEN 'RETURN' ELSE 'PURCHASE' END AS TRANSACTION_TYPE,
        CAST(5 + ${h('i', 'amt', 50000)} / 100.0 AS DECIMAL(10,2)) AS TOTAL_AMOUNT, 'USD' AS CURRENCY_CODE,
        CASE WHEN ${h('i', 'st', 25)} = 0 THEN 'FAILED' ELSE 'COMPLETED' END AS TRANSACTION_STATUS,
        CAST(${h('i', 'lp', 100)} AS INTEGER) AS LOYALTY_POINTS_EARNED
      FROM range(${n.transactions}) t(i)`,
    items: `SELECT 'I' || i AS ITEM_ID, 'T' || (i % ${n.transactions}) AS TRANSACTION_ID, 'PR' || ${h('i', 'p', 5000)} AS PRODUCT_ID,
        'Product ' || ${h('i', 'p', 5000)} AS PRODUCT_NAME, 'Cat' || (${h('i', 'p', 5000)} % 40) AS CATEGORY, 'Brand' || (${h('i', 'p', 5000)} % 90) AS BRAND,
        CAST(1 + ${h('i', 'q', 3)} AS INTEGER) AS QUANTITY, CAST(2 + ${h('i', 'up', 20000)} / 100.0 AS DECIMAL(10,2)) AS UNIT_PRICE,
        CAST(2 + ${h('i', 'up', 20000)} / 100.0 AS DECIMAL(10,2)) AS TOTAL_PRICE, CASE WHEN ${h('i', 'ret', 30)} = 0 THEN 'RETURNED' ELSE 'SOLD' END AS ITEM_STATUS
      FROM range(${Math.round(n.transactions * 1.5)}) t(i)`,
    sessions: `SELECT 'S' || i AS SESSION_ID, 'C' || ${h('i', 'sc', C)} AS CUSTOMER_ID, 'P' || ${h('i', 'sc', C)} AS CUSTOMER360_ID,
        ${ts('i', 'sts')} AS SESSION_START, ${ts('i', 'sts')} + INTERVAL 1 SECOND * ${h('i', 'dur', 1800)} AS SESSION_END,
        CAST(${h('i', 'dur', 1800)} AS INTEGER) AS SESSION_DURATION, CAST(1 + ${h('i', 'pv', 12)} AS INTEGER) AS PAGE_VIEWS,
        ${h('i', 'conv', 20)} = 0 AS CONVERSION_EVENT, ['SEARCH', 'EMAIL', 'DIRECT', 'SOCIAL'][1 + ${h('i', 'tr', 4)}] AS TRAFFIC_SOURCE
      FROM range(${n.sessions}) t(i)`,
    behavioral: `SELECT 'E' || i AS EVENT_ID, 'C' || ${h(`i % ${n.sessions}`, 'sc', C)} AS CUSTOMER_ID, 'P' || ${h(`i % ${n.sessions}`, 'sc', C)} AS CUSTOMER360_ID,
        'S' || (i % ${n.sessions}) AS SESSION_ID, ['PAGE_VIEW', 'PAGE_VIEW', 'CLICK', 'SCROLL', 'SEARCH', 'CART_ADD'][1 + ${h('i', 'et', 6)}] AS EVENT_TYPE,
        ${ts(`i % ${n.sessions}`, 'sts')} + INTERVAL 1 SECOND * ${h('i', 'off', 600)} AS EVENT_DATE,
        'https://shop.example.com/p/' || ${h('i', 'pp', 5000)} AS PAGE_URL, 'PR' || ${h('i', 'pp', 5000)} AS PRODUCT_ID,
        'Cat' || (${h('i', 'pp', 5000)} % 40) AS CATEGORY_VIEWED, CAST(${h('i', 'top', 300)} AS INTEGER) AS TIME_ON_PAGE,
        ['DESKTOP', 'MOBILE', 'TABLET'][1 + ${h(`i % ${n.sessions}`, 'dev', 3)}] AS DEVICE_TYPE, 'US' AS LOCATION_COUNTRY
      FROM range(${n.events}) t(i)`,
    engagement: `SELECT 'G' || i AS ENGAGEMENT_ID, 'C' || ${h('i', 'gc', C)} AS CUSTOMER_ID, 'P' || ${h('i', 'gc', C)} AS CUSTOMER360_ID,
        ['EMAIL', 'SMS', 'PUSH'][1 + ${h('i', 'gt', 3)}] AS ENGAGEMENT_TYPE, ${ts('i', 'gts')} AS ENGAGEMENT_DATE, 'CMP' || ${h('i', 'cmp', 100)} AS CAMPAIGN_ID,
        ['SENT', 'DELIVERED', 'OPENED', 'OPENED', 'CLICKED'][1 + ${h('i', 'ga', 5)}] AS ENGAGEMENT_ACTION, 'SUCCESS' AS ENGAGEMENT_STATUS
      FROM range(${n.engagement}) t(i)`,
    campaigns: `SELECT 'CMP' || i AS CAMPAIGN_ID, 'Campaign ' || i AS CAMPAIGN_NAME, 'EMAIL' AS CAMPAIGN_TYPE, DATE '2025-01-01' AS START_DATE,
        DATE '2026-12-31' AS END_DATE, CAST(10000 + i * 100 AS DECIMAL(12,2)) AS BUDGET, CAST(5000 + i * 50 AS DECIMAL(12,2)) AS SPENT_AMOUNT
      FROM range(100) t(i)`,
    tickets: `SELECT 'K' || i AS TICKET_ID, 'C' || ${h('i', 'kc', C)} AS CUSTOMER_ID, 'P' || ${h('i', 'kc', C)} AS CUSTOMER360_ID,
        ['OPEN', 'IN_PROGRESS', 'RESOLVED', 'CLOSED'][1 + ${h('i', 'ks', 4)}] AS TICKET_STATUS, ['LOW', 'MEDIUM', 'HIGH', 'URGENT'][1 + ${h('i', 'kp', 4)}] AS TICKET_PRIORITY,
        ${ts('i', 'kts')} AS CREATION_DATE, CAST(${h('i', 'fr', 600)} AS INTEGER) AS FIRST_RESPONSE_TIME, CAST(${h('i', 'rt', 5000)} AS INTEGER) AS TOTAL_RESOLUTION_TIME,
        ['BILLING', 'TECHNICAL', 'PRODUCT', 'GENERAL'][1 + ${h('i', 'kcat', 4)}] AS TICKET_CATEGORY, CAST(1 + ${h('i', 'sat', 5)} AS INTEGER) AS CUSTOMER_SATISFACTION
      FROM range(${n.tickets}) t(i)`,
    service: `SELECT 'N' || i AS INTERACTION_ID, 'C' || ${h(`i % ${n.tickets}`, 'kc', C)} AS CUSTOMER_ID, 'P' || ${h(`i % ${n.tickets}`, 'kc', C)} AS CUSTOMER360_ID,
        'K' || (i % ${n.tickets}) AS TICKET_ID, ['EMAIL', 'PHONE', 'CHAT'][1 + ${h('i', 'nt', 3)}] AS INTERACTION_TYPE, ${ts(`i % ${n.tickets}`, 'kts')} AS INTERACTION_DATE,
        CAST((${h('i', 'sent', 200)} - 100) / 100.0 AS DECIMAL(3,2)) AS SENTIMENT_SCORE, 'GENERAL' AS CATEGORY
      FROM range(${n.tickets * 2}) t(i)`,
    'external/profiles': `SELECT 'X' || i AS PROFILE_ID, 'C' || i AS CUSTOMER_ID, 'P' || (i % ${C}) AS CUSTOMER360_ID, DATE '2026-01-01' AS PROFILE_DATE,
        ['18-24', '25-34', '35-44', '45-54', '55+'][1 + ${h('i', 'age', 5)}] AS AGE_RANGE FROM range(${Math.round(C / 2)}) t(i)`,
    'external/sentiment': `SELECT 'Z' || i AS SENTIMENT_ID, 'C' || i AS CUSTOMER_ID, 'P' || (i % ${C}) AS CUSTOMER360_ID, DATE '2026-02-01' AS SENTIMENT_DATE,
        CAST((${h('i', 'ss', 200)} - 100) / 100.0 AS DECIMAL(3,2)) AS SENTIMENT_SCORE, CAST(${h('i', 'mc', 10)} AS INTEGER) AS MENTION_COUNT FROM range(${Math.round(C / 2)}) t(i)`,
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(e.parentPath, e.name));
  return out.sort();
}

const ms = (t0: number) => Date.now() - t0;
/** CPU time (user + system, all DuckDB threads of this process) since `from`, in ms: steadier than wall time on a shared machine. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return Math.round((u.user + u.system) / 1000);
};

export const bench: Bench = {
  name: 'gold',
  description: 'Gold datasets + DuckDB warehouse load vs a floor (one scan of Silver + one write of the Gold outputs)',
  async run({ scale, workDir, out }) {
    const n = {
      customers: Math.round(200_000 * scale), transactions: Math.round(500_000 * scale), sessions: Math.round(1_000_000 * scale),
      events: Math.round(5_000_000 * scale), engagement: Math.round(1_000_000 * scale), tickets: Math.round(20_000 * scale),
    };
    out(`scale ${scale}: ${JSON.stringify(n)}`);
    const home = workDir;
    const lake = new LocalLake(join(home, 'lake'));
    const gen = await Engine.open({ tempDirectory: join(home, 'tmp', 'duckdb') });
    let t0 = Date.now();
    for (const [dir, sql] of Object.entries(silverSql(n))) {
      const target = dir === 'crosswalk' ? join(home, 'lake', SILVER_ROOT, 'identity', 'crosswalk') : join(home, 'lake', SILVER_ROOT, dir);
      await mkdir(target, { recursive: true });
      await gen.run(`COPY (${sql}) TO ${lit(join(target, 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
    }
    gen.close();
    out(`generated Silver inputs in ${ms(t0)} ms`);

    const ctx = () => makeJobContext({ home, lake, log: silentLogger, runId: 'bench', loadId: 'bench', runDate: AS_OF, asOf: AS_OF, params: {} });
    const timings: Record<string, number> = {};
    const datasetMs: Record<string, number> = {};
    t0 = Date.now();
    let cpu = process.cpuUsage();
    // Every job of the Gold stage in pipeline order (the daily aggregates, the descriptive datasets, the models, the
    // datasets around their outputs, audiences): the warehouse load needs every snapshot, audiences read the scores.
    for (const { job } of topoSort(goldAggregation.activities)) {
      const t = Date.now();
      const c = ctx();
      await job.run(c);
      timings[job.name] = ms(t);
      Object.assign(datasetMs, c.report.metrics.datasetMs);
    }
    const goldMs = ms(t0);
    const goldCpu = cpuMs(cpu);
    t0 = Date.now();
    cpu = process.cpuUsage();
    await warehouseLoadJob.run(ctx());
    const loadMs = ms(t0);
    const loadCpu = cpuMs(cpu);
    t0 = Date.now();
    await warehouseLoadJob.run({ ...ctx(), loadId: 'bench-rerun' });
    const rerunMs = ms(t0);
    // A full refresh of the same snapshot: every row restaged and rewritten (the re-run above stages nothing).
    t0 = Date.now();
    await warehouseLoadJob.run({ ...ctx(), loadId: 'bench-full-refresh', params: { fullRefresh: 'true' } });
    const fullRefreshMs = ms(t0);

    // Floor: read every Silver file in full once, then write the Gold outputs' rows once (from memory).
    const floorEngine = await Engine.open({ tempDirectory: join(home, 'tmp', 'duckdb') });
    const silverFiles = await filesUnder(join(home, 'lake', SILVER_ROOT));
    const goldFiles = await filesUnder(join(home, 'lake', GOLD_ROOT));
    t0 = Date.now();
    cpu = process.cpuUsage();
    for (const [i, f] of silverFiles.entries()) await floorEngine.run(`CREATE TEMP TABLE s${i} AS SELECT * FROM read_parquet(${lit(f)})`);
    const scanMs = ms(t0);
    let floorCpu = cpuMs(cpu);
    for (const [i, f] of goldFiles.entries()) await floorEngine.run(`CREATE TEMP TABLE g${i} AS SELECT * FROM read_parquet(${litList([f])})`);
    t0 = Date.now();
    cpu = process.cpuUsage();
    for (const [i] of goldFiles.entries()) await floorEngine.run(`COPY g${i} TO ${lit(join(home, 'tmp', `floor-${i}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
    const writeMs = ms(t0);
    floorCpu += cpuMs(cpu);
    floorEngine.close();
    const floorMs = scanMs + writeMs;

    let goldBytes = 0;
    for (const f of goldFiles) goldBytes += (await stat(f)).size;
    const peakRssMb = maxRssMb();
    const result = {
      scale, ...n, timingsMs: { ...timings, gold: goldMs, warehouseLoad: loadMs, warehouseRerun: rerunMs, warehouseFullRefresh: fullRefreshMs, floorScan: scanMs, floorWrite: writeMs, floor: floorMs },
      datasetMs,
      goldFiles: goldFiles.length, goldMB: Math.round(goldBytes / 1e5) / 10,
      ratioGoldToFloor: Math.round((goldMs / floorMs) * 100) / 100,
      ratioGoldPlusLoadToFloor: Math.round(((goldMs + loadMs) / floorMs) * 100) / 100,
      cpuMs: { gold: goldCpu, warehouseLoad: loadCpu, floor: floorCpu },
      ratioGoldPlusLoadToFloorCpu: Math.round(((goldCpu + loadCpu) / floorCpu) * 100) / 100,
      eventsPerSecond: Math.round(n.events / ((goldMs + loadMs) / 1000)),
      peakRssMb,
    };
    out(JSON.stringify(result, null, 2));
    return result;
  },
};
