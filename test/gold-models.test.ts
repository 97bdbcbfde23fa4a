// Model tests for the Gold layer: the hand-made Silver scenario in test/fixtures/gold-scenario.ts goes in, the rows
// worked out by hand come out (survivorship, RFM, 7/30/90-day windows, attribution, ROI, funnel), and adding data
// after the as-of date changes no dataset at all.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { AS_OF, writeScenarioIntelligence, writeScenarioSilver } from './fixtures/gold-scenario.ts';
import { GOLD_SQL_DATASETS, getDataset } from '../src/catalogue/index.ts';
import { dayPartitionFiles } from '../src/gold/day-partitioned.ts';
import { goldDir } from '../src/gold/paths.ts';
import { registerSilverInputs } from '../src/gold/silver-inputs.ts';
import { rfmSegment, rfmSegmentSql, scoreSql } from '../src/gold/rfm.ts';
import { goldCustomerJob } from '../jobs/gold-customer.ts';
import { goldBehaviorJob } from '../jobs/gold-behavior.ts';
import { goldCampaignsJob } from '../jobs/gold-campaigns.ts';
import { goldPersonalizationJob } from '../jobs/gold-personalization.ts';

type Row = Record<string, unknown>;
const JOBS = [goldCustomerJob, goldBehaviorJob, goldCampaignsJob, goldPersonalizationJob];

async function buildScenario(later: boolean, asOf: string | undefined = AS_OF) {
  const home = await mkdtemp(join(tmpdir(), 'c360-gold-'));
  const lake = new LocalLake(join(home, 'lake'));
  const engine = await Engine.open();
  await writeScenarioSilver(engine, lake, join(home, 'tmp'), { later });
  await writeScenarioIntelligence(engine, lake, join(home, 'tmp'));
  const reports = [];
  for (const job of JOBS) {
    const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r1', loadId: 'l1', runDate: AS_OF, asOf, params: {} });
    await job.run(ctx);
    reports.push(ctx.report);
  }
  // a snapshot is the as-of folder; a day-partitioned fact is its partitions up to the as-of date
  const read = async (dataset: string, date = AS_OF): Promise<Row[]> => {
    const ds = getDataset(dataset);
    const rel = ds.maintenance === 'incremental-by-time'
      ? await dayPartitionFiles(lake, ds.path, date)
      : (await lake.list(goldDir(dataset, date))).map((f) => f.path);
    if (rel.length === 0) return [];
    const files = rel.map((f) => join(home, 'lake', f));
    return engine.all(`SELECT * FROM read_parquet(${litList(files)}, hive_partitioning = false)`);
  };
  return { home, lake, engine, read, reports };
}

let base: Awaited<ReturnType<typeof buildScenario>>;
let later: Awaited<ReturnType<typeof buildScenario>>;

beforeAll(async () => {
  [base, later] = await Promise.all([buildScenario(false), buildScenario(true)]);
});
afterAll(async () => {
  for (const s of [base, later]) {
    s?.engine.close();
    if (s) await rm(s.home, { recursive: true, force: true });
  }
});

const byId = (rows: Row[], key: string) => Object.fromEntries(rows.map((r) => [String(r[key]), r]));

describe('customer profile', () => {
  it('has one row per person known by the as-of date', async () => {
    const rows = await base.read('customer_profile');
    expect(rows.map((r) => r.CUSTOMER360_ID)).toEqual(['P1', 'P2', 'P3']);
  });

  it('survivorship: trusted source, most recent valid value, most complete block, each with its source', async () => {
    const p1 = byId(await base.read('customer_profile'), 'CUSTOMER360_ID').P1!;
    // trust: CRM beats the more recent POS record
    expect([p1.FIRST_NAME, p1.FIRST_NAME_SOURCE]).toEqual(['Ann', 'CRM']);
    expect([p1.DATE_OF_BIRTH, p1.DATE_OF_BIRTH_SOURCE]).toEqual(['1990-05-01', 'CRM']);
    // most recent valid: ECOMMERCE is newer but its e-mail is invalid, so POS wins over the older CRM value
    expect([p1.EMAIL_ADDRESS, p1.EMAIL_ADDRESS_SOURCE]).toEqual(['ann@new.example.com', 'POS']);
    expect([p1.LOYALTY_TIER, p1.LOYALTY_POINTS, p1.LOYALTY_TIER_SOURCE]).toEqual(['GOLD', 250, 'POS']);
    expect([p1.PHONE_NUMBER, p1.PHONE_NUMBER_SOURCE]).toEqual(['+1 617 555 0101', 'ECOMMERCE']);
    // most complete: the CRM address block (5 parts) beats POS's newer city-only record, and stays whole
    expect([p1.ADDRESS_LINE_1, p1.CITY, p1.STATE_CODE, p1.ZIP_CODE, p1.COUNTRY_CODE, p1.ADDRESS_SOURCE]).toEqual(['1 Main St', 'Boston', 'MA', '02101', 'US', 'CRM']);
    expect(p1.IDENTIFIERS).toBe('CRM:C1|ECOMMERCE:E1|POS:S1');
    expect([p1.REGISTRATION_DATE, p1.LAST_LOGIN_DATE, p1.SOURCE_SYSTEMS]).toEqual(['2025-01-01', '2026-03-20', 'CRM,ECOMMERCE,POS']);
  });

  it('lifetime metrics count completed purchases only', async () => {
    const p = byId(await base.read('customer_profile'), 'CUSTOMER360_ID');
    expect([p.P1!.TOTAL_ORDERS, p.P1!.TOTAL_REVENUE, p.P1!.AVG_ORDER_VALUE, p.P1!.RETURN_COUNT, p.P1!.RETURN_RATE]).toEqual(['3', '175.50', '58.50', '1', 0.3333]);
    expect([p.P1!.FIRST_PURCHASE_DATE, p.P1!.LAST_PURCHASE_DATE, p.P1!.DAYS_SINCE_LAST_PURCHASE]).toEqual(['2026-01-10', '2026-03-30', '1']);
    // the FAILED purchase of P2 does not count
    expect([p.P2!.TOTAL_ORDERS, p.P2!.TOTAL_REVENUE, p.P2!.DAYS_SINCE_LAST_PURCHASE]).toEqual(['1', '300.00', '44']);
    expect([p.P3!.TOTAL_ORDERS, p.P3!.TOTAL_REVENUE, p.P3!.AVG_ORDER_VALUE]).toEqual(['0', '0.00', null]);
  });

  it('windows: a day d is in the N-day window when asOf - d < N', async () => {
    const p1 = byId(await base.read('customer_profile'), 'CUSTOMER360_ID').P1!;
    // purchases 6 and 1 days back are in 7D; 80 days back only in 90D
    expect([p1.ORDERS_7D, p1.SPEND_7D, p1.ORDERS_30D, p1.ORDERS_90D, p1.SPEND_90D]).toEqual(['2', '75.50', '2', '3', '175.50']);
    // the event exactly 7 days back is outside 7D; the session exactly 30 days back is outside 30D
    expect([p1.EVENTS_7D, p1.EVENTS_30D, p1.EVENTS_90D]).toEqual(['2', '3', '4']);
    expect([p1.SESSIONS_7D, p1.SESSIONS_30D, p1.SESSIONS_90D]).toEqual(['1', '1', '2']);
    expect([p1.OPENS_7D, p1.CLICKS_7D, p1.OPENS_30D, p1.OPENS_90D]).toEqual(['0', '1', '1', '2']);
    expect([p1.TICKETS_7D, p1.TICKETS_90D]).toEqual(['1', '2']);
    expect([p1.PREFERRED_PURCHASE_CHANNEL, p1.PREFERRED_DEVICE]).toEqual(['POS', 'DESKTOP']);
  });

  it('RFM scores and segments among purchasers', async () => {
    const p = byId(await base.read('customer_profile'), 'CUSTOMER360_ID');
    expect([p.P1!.RFM_SCORE, p.P1!.RFM_SEGMENT]).toEqual(['551', 'Loyal Customers']);
    expect([p.P2!.RFM_SCORE, p.P2!.RFM_SEGMENT]).toEqual(['115', 'Hibernating']);
    expect([p.P3!.RFM_SCORE, p.P3!.RFM_SEGMENT]).toEqual([null, 'No Purchases']);
  });

  it('service and third-party features', async () => {
    const p = byId(await base.read('customer_profile'), 'CUSTOMER360_ID');
    expect([p.P1!.TOTAL_TICKETS, p.P1!.OPEN_TICKETS, p.P1!.AVG_RESOLUTION_MINUTES, p.P1!.AVG_SERVICE_SENTIMENT]).toEqual(['2', '1', 120, -0.5]);
    expect([p.P1!.AGE_RANGE, p.P1!.INCOME_RANGE, p.P1!.EXTERNAL_SENTIMENT_SCORE, p.P1!.EXTERNAL_MENTIONS]).toEqual(['35-44', '50-75k', 0.5, '3']);
  });
});

describe('survivorship rules', () => {
  it('an address block survives whole from the most complete record, nulls included', async () => {
    const { getContract } = await import('../schemas/index.ts');
    const { duckdbType: duckType } = await import('../src/contracts/duckdb-types.ts');
    const { survivingColumnsSql, survivorshipCandidatesSql } = await import('../src/gold/survivorship.ts');
    const e = await Engine.open();
    try {
      const cols = getContract('CUSTOMERS').columns.map((c) => `${c.name} ${duckType(c.type)}`);
      await e.run(`CREATE TABLE c (${[...cols, 'CUSTOMER360_ID VARCHAR', 'EMAIL_NORMALIZED VARCHAR', 'PHONE_E164 VARCHAR', '_source_system VARCHAR', '_quality_score DOUBLE'].join(', ')})`);
      await e.run(`INSERT INTO c (CUSTOMER_ID, CUSTOMER360_ID, _source_system, ADDRESS_LINE_1, CITY, STATE_CODE, ZIP_CODE, LAST_LOGIN_DATE, FIRST_NAME) VALUES
        ('A', 'P', 'CRM', '1 Main St', 'Boston', 'MA', NULL, DATE '2026-01-01', 'Ann'),
        ('B', 'P', 'POS', NULL, 'Cambridge', NULL, '02139', DATE '2026-03-01', NULL),
        ('C', 'P', 'WEB', NULL, NULL, NULL, NULL, DATE '2026-03-05', 'Anna')`);
      const [row] = await e.all(`SELECT ${survivingColumnsSql().join(', ')} FROM (${survivorshipCandidatesSql('c')}) GROUP BY CUSTOMER360_ID`);
      expect([row!.ADDRESS_LINE_1, row!.CITY, row!.STATE_CODE, row!.ZIP_CODE, row!.ADDRESS_SOURCE]).toEqual(['1 Main St', 'Boston', 'MA', null, 'CRM']);
      // an unknown source ranks after the known ones, whatever its recency
      expect([row!.FIRST_NAME, row!.FIRST_NAME_SOURCE]).toEqual(['Ann', 'CRM']);
    } finally {
      e.close();
    }
  });
});

describe('RFM scoring rules', () => {
  it('scores 1..5 by percent rank with ties sharing a score', async () => {
    const e = await Engine.open();
    try {
      const rows = await e.all<{ id: string; s: number }>(
        `SELECT id, ${scoreSql('percent_rank() OVER (ORDER BY v)')} AS s FROM (VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 4), ('e', 5), ('f', 5)) t(id, v) ORDER BY id`,
      );
      // percent ranks 0, .2, .4, .6, .8, .8: the tied top values share score 5
      expect(rows.map((r) => r.s)).toEqual([1, 2, 3, 4, 5, 5]);
    } finally {
      e.close();
    }
  });

  it('the SQL segment rules agree with the documented JS rules on all 125 score combinations', async () => {
    const e = await Engine.open();
    try {
      const rows = await e.all<{ r: number; f: number; m: number; seg: string }>(
        `SELECT r, f, m, ${rfmSegmentSql('r', 'f', 'm')} AS seg FROM range(1, 6) a(r), range(1, 6) b(f), range(1, 6) c(m)`,
      );
      expect(rows).toHaveLength(125);
      for (const x of rows) expect(x.seg).toBe(rfmSegment(Number(x.r), Number(x.f), Number(x.m)));
      expect(rfmSegment(5, 5, 5)).toBe('Champions');
      expect(rfmSegment(1, 1, 1)).toBe('Hibernating');
    } finally {
      e.close();
    }
  });
});

describe('campaigns and attribution', () => {
  it('last touch and linear credit within the 7-day window', async () => {
    const rows = await base.read('campaign_attribution');
    // (kept by conversion day: files in day order, rows in key order within a day)
    const got = rows.map((r) => `${r.TRANSACTION_ID} ${r.MODEL} ${r.ENGAGEMENT_ID} ${r.CAMPAIGN_ID} ${r.CREDIT} ${r.REVENUE_CREDIT}`).sort();
    expect(got).toEqual([
      'T2 LAST_TOUCH G2 CMP1 1 50',
      'T2 LINEAR G2 CMP1 1 50',
      'T3 LAST_TOUCH G3 CMP2 1 25.5',
      'T3 LINEAR G2 CMP1 0.5 12.75',
      'T3 LINEAR G3 CMP2 0.5 12.75',
      'T5 LAST_TOUCH G4 CMP1 1 300',
      'T5 LINEAR G4 CMP1 1 300',
    ]);
    // T1 had only a touch 9 days earlier: no credit
    expect(rows.some((r) => r.TRANSACTION_ID === 'T1')).toBe(false);
  });

  it('ROI against SPENT_AMOUNT under both models', async () => {
    const roi = byId(await base.read('campaign_roi'), 'CAMPAIGN_ID');
    expect([roi.CMP1!.REVENUE_LAST_TOUCH, roi.CMP1!.ROI_LAST_TOUCH, roi.CMP1!.REVENUE_LINEAR, roi.CMP1!.ROI_LINEAR]).toEqual([350, 0.4, 362.75, 0.451]);
    expect([roi.CMP2!.ROI_LAST_TOUCH, roi.CMP2!.ROI_LINEAR, roi.CMP2!.COST_PER_CONVERSION]).toEqual([-0.745, -0.8725, 100]);
  });

  it('channel funnel counts people at cumulative stages', async () => {
    const rows = await base.read('campaign_channel_performance');
    const got = rows.map((r) => [r.CAMPAIGN_ID, r.CHANNEL, r.SENT, r.DELIVERED, r.OPENED, r.CLICKED, r.CONVERTED].join(' '));
    expect(got).toEqual(['CMP1 EMAIL 2 2 2 0 2', 'CMP2 SMS 1 1 1 1 1']);
  });

  it('a wider window credits the older touch too', async () => {
    const home = base.home;
    const ctx = makeJobContext({ home, lake: base.lake, log: silentLogger, runId: 'r2', loadId: 'l2', runDate: AS_OF, asOf: AS_OF, params: { attributionWindowDays: '10' } });
    await goldCampaignsJob.run(ctx);
    const t1 = (await base.read('campaign_attribution')).filter((r) => r.TRANSACTION_ID === 'T1');
    expect(t1.map((r) => `${r.MODEL} ${r.ENGAGEMENT_ID}`)).toEqual(['LAST_TOUCH G6', 'LINEAR G6']);
    // restore the default for the other tests
    await goldCampaignsJob.run(makeJobContext({ home, lake: base.lake, log: silentLogger, runId: 'r3', loadId: 'l3', runDate: AS_OF, asOf: AS_OF, params: {} }));
    expect((await base.read('campaign_attribution')).some((r) => r.TRANSACTION_ID === 'T1')).toBe(false);
  });

  it('rejects a bad attribution window with a clear error', async () => {
    const ctx = makeJobContext({ home: base.home, lake: base.lake, log: silentLogger, runId: 'r4', loadId: 'l4', runDate: AS_OF, asOf: AS_OF, params: { attributionWindowDays: 'soon' } });
    await expect(goldCampaignsJob.run(ctx)).rejects.toThrow(/attributionWindowDays.*'soon'/);
  });
});

describe('behaviour and service', () => {
  it('daily funnel stages are nested', async () => {
    const rows = await base.read('agg_funnel_daily');
    const d = byId(rows, 'CALENDAR_DATE')['2026-03-30']!;
    expect([d.VIEWERS, d.CART_ADDERS, d.PURCHASERS, d.VIEW_TO_CART_RATE, d.CART_TO_PURCHASE_RATE]).toEqual(['2', '1', '1', 0.5, 1]);
  });

  it('weekly activity is the sum of the days', async () => {
    const rows = await base.read('agg_customer_activity');
    expect(rows.length).toBe(29);
    const days = rows.filter((r) => r.GRAIN === 'DAY' && r.CUSTOMER360_ID === 'P1' && String(r.PERIOD_START) >= '2026-03-30');
    const week = rows.find((r) => r.GRAIN === 'WEEK' && r.CUSTOMER360_ID === 'P1' && r.PERIOD_START === '2026-03-30')!;
    expect(Number(week.EVENTS)).toBe(days.reduce((a, r) => a + Number(r.EVENTS), 0));
    expect([week.ORDERS, week.SPEND, week.SESSIONS]).toEqual(['1', '25.50', '1']);
  });

  it('touchpoints: touches, people and purchases assisted within 7 days', async () => {
    const rows = await base.read('dim_touchpoint');
    expect(rows.map((r) => [r.TOUCHPOINT_KEY, r.TOUCHES, r.CUSTOMERS, r.ASSISTED_PURCHASES].join(' '))).toEqual([
      'COMMERCE_ECOMMERCE 2 2 2', 'COMMERCE_POS 5 2 2', 'DIGITAL_DESKTOP 3 1 1', 'DIGITAL_MOBILE 2 2 2',
      'MESSAGE_EMAIL 5 2 3', 'MESSAGE_SMS 1 1 1', 'SERVICE_CHAT 1 1 0', 'SERVICE_PHONE 1 1 1',
    ]);
    const month = (await base.read('agg_touchpoint_activity')).find((r) => r.GRAIN === 'MONTH' && r.PERIOD_START === '2026-03-01' && r.TOUCHPOINT_KEY === 'MESSAGE_EMAIL')!;
    expect([month.TOUCHES, month.CUSTOMERS]).toEqual(['2', '1']);
  });

  it('products summed from the product-days equal a summary of every line item (latest attributes, averages, rates)', async () => {
    const e = await Engine.open();
    try {
      await registerSilverInputs(e, base.lake, AS_OF, new Set(['items', 'transactions']));
      const direct = await e.all(`SELECT PRODUCT_ID, first(PRODUCT_NAME ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS PRODUCT_NAME,
        first(SKU ORDER BY TRANSACTION_DATE DESC, ITEM_ID) AS SKU, CAST(ROUND(avg(UNIT_PRICE), 2) AS DECIMAL(18,2)) AS AVG_UNIT_PRICE,
        CAST(COALESCE(sum(QUANTITY) FILTER (WHERE ITEM_STATUS = 'SOLD'), 0) AS BIGINT) AS UNITS_SOLD,
        CAST(COALESCE(sum(TOTAL_PRICE) FILTER (WHERE ITEM_STATUS = 'SOLD'), 0) AS DECIMAL(18,2)) AS REVENUE,
        ROUND(count(*) FILTER (WHERE ITEM_STATUS = 'RETURNED') / count(*), 4) AS RETURN_RATE, ROUND(avg(ITEM_RATING), 2) AS AVG_RATING,
        CAST(min(TRANSACTION_DATE) AS DATE) AS FIRST_SOLD_DATE, CAST(max(TRANSACTION_DATE) AS DATE) AS LAST_SOLD_DATE
      FROM s_items JOIN s_transactions USING (TRANSACTION_ID) WHERE PRODUCT_ID IS NOT NULL GROUP BY 1 ORDER BY 1`);
      const got = (await base.read('dim_product')).map(({ CATEGORY: _c, SUBCATEGORY: _s, BRAND: _b, ...r }) => r);
      expect(direct.length).toBeGreaterThan(1);
      expect(got).toEqual(direct);
    } finally {
      e.close();
    }
  });

  it('service summary by category and priority', async () => {
    const rows = await base.read('service_summary');
    expect(rows.map((r) => [r.TICKET_CATEGORY, r.TICKET_PRIORITY, r.TICKETS, r.OPEN_TICKETS, r.AVG_SATISFACTION].join(' '))).toEqual([
      'BILLING HIGH 2 1 2',
      'TECHNICAL LOW 1 0 4',
    ]);
  });

  it('identity map: one row per (SOURCE_SYSTEM, CUSTOMER_ID)', async () => {
    const rows = await base.read('customer_identity_map');
    expect(rows.map((r) => `${r.SOURCE_SYSTEM}:${r.CUSTOMER_ID}>${r.CUSTOMER360_ID}`)).toEqual(['CRM:C1>P1', 'CRM:C2>P2', 'ECOMMERCE:E1>P1', 'MARKETING:M3>P3', 'POS:S1>P1']);
  });
});

describe('personalization', () => {
  it('events on products recommended in an earlier run are attributed to that run', async () => {
    const { writeGoldFixture } = await import('./fixtures/silver-fixture.ts');
    const { INTELLIGENCE_COLUMNS } = await import('../src/gold/intelligence-inputs.ts');
    await writeGoldFixture(base.engine, base.lake, join(base.home, 'tmp'), goldDir('product_recommendations', '2026-03-15'), INTELLIGENCE_COLUMNS.product_recommendations!, [
      { CUSTOMER360_ID: 'P1', PRODUCT_ID: 'PR1', RANK: 1, SCORE: 0.9, REASON: 'r', ALGORITHM: 'HYBRID', MODEL_VERSION: 'reco-v0', AS_OF_DATE: '2026-03-15' },
      { CUSTOMER360_ID: 'P2', PRODUCT_ID: 'PR9', RANK: 1, SCORE: 0.9, REASON: 'r', ALGORITHM: 'HYBRID', MODEL_VERSION: 'reco-v0', AS_OF_DATE: '2026-03-15' },
    ]);
    await goldPersonalizationJob.run(makeJobContext({ home: base.home, lake: base.lake, log: silentLogger, runId: 'p1', loadId: 'p1', runDate: AS_OF, asOf: AS_OF, params: {} }));
    const rows = await base.read('fact_personalization_events');
    // P1's view and cart add of PR1 on 03-30 and the purchase line I3 of PR1 (T3), all after the 03-15 run
    expect(rows.map((r) => `${r.PERSONALIZATION_EVENT_KEY} ${r.ACTION} ${r.RANK} ${r.DAYS_AFTER_RECOMMENDATION}`)).toEqual([
      'EVENT:EV1:HYBRID PAGE_VIEW 1 15',
      'EVENT:EV2:HYBRID CART_ADD 1 15',
      'ITEM:I3:HYBRID PURCHASE 1 15',
    ]);
    const dims = await base.read('dim_recommendation');
    expect(dims.map((r) => `${r.RECOMMENDATION_KEY} ${r.MODEL_NAME} ${r.CUSTOMERS} ${r.RECOMMENDATIONS}`)).toEqual(['HYBRID:reco-v1 reco 2 3']);
    await base.lake.delete(`${goldDir('product_recommendations', '2026-03-15')}/part-00000.parquet`);
    await goldPersonalizationJob.run(makeJobContext({ home: base.home, lake: base.lake, log: silentLogger, runId: 'p2', loadId: 'p2', runDate: AS_OF, asOf: AS_OF, params: {} }));
  });
});

describe('as-of cut', () => {
  it('data after the as-of date changes no Gold dataset', async () => {
    for (const ds of GOLD_SQL_DATASETS) {
      const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();
      const a = sorted(await base.read(ds.name));
      expect(a.length, ds.name).toBeGreaterThan(ds.name === 'fact_personalization_events' ? -1 : 0);
      expect(sorted(await later.read(ds.name)), ds.name).toEqual(a);
    }
  });

  it('the later data is really there: a later as-of sees it', async () => {
    const ctx = makeJobContext({ home: later.home, lake: later.lake, log: silentLogger, runId: 'r5', loadId: 'l5', runDate: AS_OF, params: {} });
    await goldCustomerJob.run(ctx);
    // default as-of = latest event date in Silver (campaign start dates excluded)
    expect(ctx.report.metrics.asOf).toBe('2026-04-16');
    const p = byId(await later.read('customer_profile', '2026-04-16'), 'CUSTOMER360_ID');
    expect(Object.keys(p).sort()).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(p.P2!.TOTAL_REVENUE).toBe('1299.00');
  });

  it('a re-run writes the same files content (idempotent)', async () => {
    const before = await base.read('customer_profile');
    await goldCustomerJob.run(makeJobContext({ home: base.home, lake: base.lake, log: silentLogger, runId: 'r6', loadId: 'l6', runDate: AS_OF, asOf: AS_OF, params: {} }));
    expect(await base.read('customer_profile')).toEqual(before);
    expect((await base.lake.list(goldDir('customer_profile', AS_OF))).length).toBe(1);
  });
});
