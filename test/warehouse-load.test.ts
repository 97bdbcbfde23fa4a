// The local warehouse: the Gold snapshot of the scenario loaded into a DuckDB file with the same load plan that is
// rendered for Snowflake. Checks the three schemas, DIM_CUSTOMER totals against an independent sum over the source
// transactions mapped through the crosswalk, idempotent re-runs (every table unchanged), snapshot/partition
// reconciliation, clear errors on bad snapshots, model/Gold schema agreement, and the analyst queries.
import { getDataset } from '../src/catalogue/index.ts';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { AS_OF, CROSSWALK, ITEMS, TRANSACTIONS, writeScenarioIntelligence, writeScenarioSilver } from './fixtures/gold-scenario.ts';
import { goldDir } from '../src/gold/paths.ts';
import { writeGoldFixture } from './fixtures/silver-fixture.ts';
import { INTELLIGENCE_COLUMNS } from '../src/gold/intelligence-inputs.ts';
import { sourceFiles, WAREHOUSE_TABLES, WAREHOUSE_VIEWS } from '../src/warehouse/model.ts';
import { duckdbDialect } from '../src/warehouse/dialects/duckdb.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { SCHEMAS } from '../src/warehouse/types.ts';
import { goldCustomerJob } from '../jobs/gold-customer.ts';
import { goldBehaviorJob } from '../jobs/gold-behavior.ts';
import { goldCampaignsJob } from '../jobs/gold-campaigns.ts';
import { goldPersonalizationJob } from '../jobs/gold-personalization.ts';
import { goldProfileChangesJob } from '../jobs/gold-profile-changes.ts';
import { goldAudiencesJob } from '../jobs/gold-audiences.ts';
import { warehouseLoadJob } from '../jobs/warehouse-load.ts';

let home: string;
let lake: LocalLake;
let scratch: Engine;

async function runLoad(loadId: string, asOf?: string) {
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: loadId, loadId, runDate: AS_OF, asOf, params: {} });
  await warehouseLoadJob.run(ctx);
  return ctx.report;
}

async function withWarehouse<T>(fn: (e: Engine) => Promise<T>): Promise<T> {
  const e = await Engine.open({ path: join(home, 'warehouse.duckdb') });
  try {
    return await fn(e);
  } finally {
    e.close();
  }
}

/** Every table's full content as sorted JSON rows, by table. */
async function snapshotAll(e: Engine): Promise<Record<string, string>> {
  const tables = await e.all<{ s: string; t: string }>(`SELECT table_schema AS s, table_name AS t FROM information_schema.tables ORDER BY 1, 2`);
  const out: Record<string, string> = {};
  for (const { s, t } of tables) {
    const rows = await e.all(`SELECT * FROM ${duckdbDialect.qualified(s, t)}`);
    out[`${s}.${t}`] = JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
  }
  return out;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-wh-'));
  lake = new LocalLake(join(home, 'lake'));
  scratch = await Engine.open();
  await writeScenarioSilver(scratch, lake, join(home, 'tmp'));
  await writeScenarioIntelligence(scratch, lake, join(home, 'tmp'));
  for (const job of [goldCustomerJob, goldBehaviorJob, goldCampaignsJob, goldPersonalizationJob, goldProfileChangesJob, goldAudiencesJob]) {
    await job.run(makeJobContext({ home, lake, log: silentLogger, runId: 'g', loadId: 'g', runDate: AS_OF, asOf: AS_OF, params: {} }));
  }
  await runLoad('LOAD-1');
});
afterAll(async () => {
  scratch?.close();
  await rm(home, { recursive: true, force: true });
});

describe('local warehouse load', () => {
  it('creates the three schemas with every model table, commented', async () => {
    await withWarehouse(async (e) => {
      const tables = await e.all<{ s: string; t: string; c: string | null }>(
        `SELECT schema_name AS s, table_name AS t, comment AS c FROM duckdb_tables() WHERE schema_name IN (${SCHEMAS.map((s) => `'${s}'`).join(', ')}) ORDER BY 1, 2`,
      );
      expect(tables.map((x) => `${x.s}.${x.t}`).sort()).toEqual(WAREHOUSE_TABLES.map((t) => `${t.schema}.${t.name}`).sort());
      expect(tables.every((x) => (x.c ?? '').length > 0)).toBe(true);
      const uncommented = await e.scalar(`SELECT count(*) FROM duckdb_columns() WHERE schema_name IN ('CUSTOMER_360', 'CUSTOMER_BEHAVIOR', 'RECOMMENDATIONS') AND (comment IS NULL OR comment = '')`);
      expect(Number(uncommented)).toBe(0);
    });
  });

  it('DIM_CUSTOMER totals agree with an independent sum over source transactions mapped through the crosswalk', async () => {
    // Independent of the Gold SQL: plain JS over the source rows, completed purchases on or before the as-of date.
    const personOf = new Map(CROSSWALK.map((r) => [String(r.CUSTOMER_ID), String(r.CUSTOMER360_ID)]));
    const expected = new Map<string, { orders: number; cents: number }>();
    for (const t of TRANSACTIONS) {
      if (t.TRANSACTION_TYPE !== 'PURCHASE' || t.TRANSACTION_STATUS !== 'COMPLETED' || String(t.TRANSACTION_DATE).slice(0, 10) > AS_OF) continue;
      const p = personOf.get(String(t.CUSTOMER_ID));
      if (!p) continue;
      const x = expected.get(p) ?? { orders: 0, cents: 0 };
      x.orders++;
      x.cents += Math.round(Number(t.TOTAL_AMOUNT) * 100);
      expected.set(p, x);
    }
    await withWarehouse(async (e) => {
      const rows = await e.all<{ id: string; o: string; r: string }>(`SELECT CUSTOMER360_ID AS id, TOTAL_ORDERS AS o, TOTAL_REVENUE AS r FROM CUSTOMER_360.DIM_CUSTOMER ORDER BY 1`);
      expect(rows.map((r) => r.id)).toEqual(['P1', 'P2', 'P3']);
      for (const r of rows) {
        const x = expected.get(r.id) ?? { orders: 0, cents: 0 };
        expect([r.id, Number(r.o), Math.round(Number(r.r) * 100)]).toEqual([r.id, x.orders, x.cents]);
      }
      const n = await e.scalar(`SELECT count(*) - count(DISTINCT CUSTOMER360_ID) FROM CUSTOMER_360.DIM_CUSTOMER`);
      expect(Number(n)).toBe(0);
      const map = await e.all(`SELECT SOURCE_SYSTEM, CUSTOMER_ID, count(*) AS n FROM CUSTOMER_360.CUSTOMER_IDENTITY_MAP GROUP BY ALL HAVING count(*) > 1`);
      expect(map).toEqual([]);
    });
  });

  it('loads the intelligence outputs into their tables', async () => {
    await withWarehouse(async (e) => {
      expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE CHURN_RISK BETWEEN 0 AND 1`))).toBe(2);
      expect(await e.all(`SELECT CUSTOMER360_ID, PRODUCT_ID, RANK FROM RECOMMENDATIONS.PRODUCT_RECOMMENDATIONS ORDER BY 1, 3`)).toEqual([
        { CUSTOMER360_ID: 'P1', PRODUCT_ID: 'PR3', RANK: 1 },
        { CUSTOMER360_ID: 'P1', PRODUCT_ID: 'PR2', RANK: 2 },
        { CUSTOMER360_ID: 'P2', PRODUCT_ID: 'PR1', RANK: 1 },
      ]);
      expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.MODEL_REGISTRY`))).toBe(2);
      expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.CUSTOMER_SEGMENTS`))).toBe(3);
    });
  });

  it('FACT_TRANSACTION_ITEMS: product sales by person agree with an independent sum over the source lines', async () => {
    // Plain JS: SOLD lines of completed purchases on or before the as-of date, by person and product, in cents.
    const personOf = new Map(CROSSWALK.map((r) => [String(r.CUSTOMER_ID), String(r.CUSTOMER360_ID)]));
    const txOf = new Map(TRANSACTIONS.map((t) => [String(t.TRANSACTION_ID), t]));
    const expected: Record<string, number> = {};
    let lines = 0;
    for (const i of ITEMS) {
      const t = txOf.get(String(i.TRANSACTION_ID));
      if (!t || String(t.TRANSACTION_DATE).slice(0, 10) > AS_OF) continue;
      lines++;
      if (i.ITEM_STATUS !== 'SOLD' || t.TRANSACTION_TYPE !== 'PURCHASE' || t.TRANSACTION_STATUS !== 'COMPLETED') continue;
      const k = `${personOf.get(String(t.CUSTOMER_ID))}|${i.PRODUCT_ID}`;
      expected[k] = (expected[k] ?? 0) + Math.round(Number(i.TOTAL_PRICE) * 100);
    }
    await withWarehouse(async (e) => {
      expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.FACT_TRANSACTION_ITEMS`))).toBe(lines);
      const rows = await e.all<{ k: string; c: string }>(`SELECT CUSTOMER360_ID || '|' || PRODUCT_ID AS k, CAST(sum(TOTAL_PRICE) * 100 AS BIGINT) AS c
        FROM CUSTOMER_360.FACT_TRANSACTION_ITEMS WHERE IS_COMPLETED_SALE GROUP BY ALL`);
      expect(Object.fromEntries(rows.map((r) => [r.k, Number(r.c)]))).toEqual(expected);
      // every line joins to its transaction and date, and product revenue adds up to DIM_PRODUCT's
      expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.FACT_TRANSACTION_ITEMS i
        JOIN CUSTOMER_360.FACT_TRANSACTIONS t USING (TRANSACTION_ID) JOIN CUSTOMER_360.DIM_DATE d ON d.DATE_KEY = i.DATE_KEY
        WHERE t.CUSTOMER360_ID IS NOT DISTINCT FROM i.CUSTOMER360_ID`))).toBe(lines);
      expect(await e.all(`SELECT p.PRODUCT_ID FROM CUSTOMER_360.DIM_PRODUCT p LEFT JOIN (
          SELECT PRODUCT_ID, sum(TOTAL_PRICE) FILTER (WHERE ITEM_STATUS = 'SOLD') AS r FROM CUSTOMER_360.FACT_TRANSACTION_ITEMS GROUP BY 1) i USING (PRODUCT_ID)
        WHERE p.REVENUE IS DISTINCT FROM i.r`)).toEqual([]);
    });
  });

  it('CUSTOMER_PREFERENCES: one row per person, type and value; the latest record wins; unknown people and empty values left out', async () => {
    await withWarehouse(async (e) => {
      const rows = await e.all(`SELECT CUSTOMER360_ID AS p, PREFERENCE_TYPE AS t, PREFERENCE_VALUE AS v, CAST(PREFERENCE_STRENGTH AS DOUBLE) AS s, PREFERENCE_SOURCE AS src,
          IS_ACTIVE AS a, STRENGTH_RANK AS r, CAST(FIRST_RECORDED_DATE AS VARCHAR) AS f, CAST(LAST_RECORDED_DATE AS VARCHAR) AS l, RECORD_COUNT AS n, LATEST_PREFERENCE_ID AS id
        FROM CUSTOMER_360.CUSTOMER_PREFERENCES ORDER BY 1, 2, 3`);
      expect(rows).toEqual([
        { p: 'P1', t: 'CATEGORY', v: 'Bags', s: 0.9, src: 'INFERRED', a: true, r: 1, f: '2026-02-01', l: '2026-02-01', n: '1', id: 'PF3' },
        { p: 'P1', t: 'CATEGORY', v: 'Shoes', s: 0.6, src: 'IMPLICIT', a: true, r: 2, f: '2026-01-05', l: '2026-03-01', n: '2', id: 'PF2' },
        { p: 'P1', t: 'COMMUNICATION', v: 'EMAIL', s: 0.7, src: 'EXPLICIT', a: false, r: null, f: '2026-01-01', l: '2026-03-10', n: '2', id: 'PF5' },
        { p: 'P2', t: 'BRAND', v: 'Nord', s: 0.5, src: 'IMPLICIT', a: true, r: 1, f: '2026-02-20', l: '2026-02-20', n: '1', id: 'PF6' },
      ]);
    });
  });

  it('SEGMENT_PROFILES: one row per segment, sizes adding up to the segmented people', async () => {
    await withWarehouse(async (e) => {
      expect(await e.all(`SELECT p.SEGMENT_LABEL, p.CUSTOMERS, count(s.CUSTOMER360_ID) AS n FROM CUSTOMER_360.SEGMENT_PROFILES p
        LEFT JOIN CUSTOMER_360.CUSTOMER_SEGMENTS s USING (AS_OF_DATE, SEGMENT_ID) GROUP BY ALL ORDER BY 1`)).toEqual([
        { SEGMENT_LABEL: 'Engaged regulars', CUSTOMERS: 1, n: '1' },
        { SEGMENT_LABEL: 'Lapsing big spenders', CUSTOMERS: 1, n: '1' },
        { SEGMENT_LABEL: 'Prospects', CUSTOMERS: 1, n: '1' },
      ]);
    });
  });

  it('the CUSTOMER_360.CUSTOMER_360 view: the profile with its risk score and segment, one row per person, commented', async () => {
    const [view] = WAREHOUSE_VIEWS;
    expect(`${view!.schema}.${view!.name}`).toBe('CUSTOMER_360.CUSTOMER_360');
    await withWarehouse(async (e) => {
      const rows = await e.all<Record<string, unknown>>(`SELECT * FROM CUSTOMER_360.CUSTOMER_360 ORDER BY CUSTOMER360_ID`);
      const profile = await e.all<Record<string, unknown>>(`SELECT * EXCLUDE (_LOAD_ID, _AS_OF_DATE) FROM CUSTOMER_360.DIM_CUSTOMER ORDER BY CUSTOMER360_ID`);
      expect(rows.length).toBe(profile.length);
      expect(Object.keys(rows[0]!)).toEqual(view!.columns.map((c) => c.name));
      rows.forEach((r, i) => expect(Object.fromEntries(Object.keys(profile[i]!).map((k) => [k, r[k]]))).toEqual(profile[i]));
      expect(rows.map((r) => [r.CUSTOMER360_ID, r.CHURN_RISK, r.PREDICTED_CLV, r.SEGMENT_LABEL])).toEqual([
        ['P1', 0.1, 120.5, 'Engaged regulars'], ['P2', 0.7, 60, 'Lapsing big spenders'], ['P3', null, null, 'Prospects'],
      ]);
      expect(await e.scalar(`SELECT comment FROM duckdb_views() WHERE schema_name = 'CUSTOMER_360' AND view_name = 'CUSTOMER_360'`)).toMatch(/profile/);
      expect(Number(await e.scalar(`SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'CUSTOMER_360' AND table_name = 'CUSTOMER_360' AND COALESCE(comment, '') <> ''`))).toBe(view!.columns.length);
      // the analysts' copy reads the masked views: the same rows with PII masked as in ANALYST_CUSTOMER_360.DIM_CUSTOMER
      const masked = await e.all(`SELECT CUSTOMER360_ID, EMAIL_ADDRESS, SEGMENT_LABEL FROM ANALYST_CUSTOMER_360.CUSTOMER_360 ORDER BY 1`);
      expect(masked.map((r) => r.EMAIL_ADDRESS)).toEqual((await e.all(`SELECT EMAIL_ADDRESS FROM ANALYST_CUSTOMER_360.DIM_CUSTOMER ORDER BY CUSTOMER360_ID`)).map((r) => r.EMAIL_ADDRESS));
      expect(masked.map((r) => r.EMAIL_ADDRESS)).not.toEqual(rows.map((r) => r.EMAIL_ADDRESS));
      expect(masked.map((r) => r.SEGMENT_LABEL)).toEqual(rows.map((r) => r.SEGMENT_LABEL));
    });
  });

  it('a re-run with a new load id leaves every table exactly as it was', async () => {
    const before = await withWarehouse(snapshotAll);
    await runLoad('LOAD-2');
    const after = await withWarehouse(snapshotAll);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) expect(after[k], k).toBe(before[k]);
    expect(before['CUSTOMER_360.DIM_CUSTOMER']).toContain('LOAD-1');
    // staging is session-scoped: nothing of it lands in the warehouse file
    expect(Object.keys(before).some((k) => k.startsWith('STAGING'))).toBe(false);
  });

  it('snapshot tables drop keys the snapshot no longer has; partition tables keep other as-of dates', async () => {
    const tmp = join(home, 'tmp');
    const cols = INTELLIGENCE_COLUMNS.risk_scores!;
    // an earlier as-of partition of risk scores, loaded on its own
    await writeGoldFixture(scratch, lake, tmp, goldDir('risk_scores', '2026-03-01'), cols, [{ CUSTOMER360_ID: 'P1', AS_OF_DATE: '2026-03-01', CHURN_RISK: 0.2 }]);
    await withWarehouse((e) => loadWarehouse(e, lake, { asOf: '2026-03-01', loadId: 'LOAD-OLD', tables: WAREHOUSE_TABLES.filter((t) => t.name === 'CUSTOMER_RISK_SCORES') }));
    // the current partition loses P2
    await writeGoldFixture(scratch, lake, tmp, goldDir('risk_scores', AS_OF), cols, [{ CUSTOMER360_ID: 'P1', AS_OF_DATE: AS_OF, CHURN_RISK: 0.15 }]);
    // and the identity map snapshot loses POS:S1
    const mapRows = [
      { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', AS_OF_DATE: AS_OF },
      { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2', AS_OF_DATE: AS_OF },
    ];
    await writeGoldFixture(scratch, lake, tmp, goldDir('customer_identity_map', AS_OF), { SOURCE_SYSTEM: 'VARCHAR', CUSTOMER_ID: 'VARCHAR', CUSTOMER360_ID: 'VARCHAR', AS_OF_DATE: 'DATE' }, mapRows);
    await runLoad('LOAD-3', AS_OF);
    await withWarehouse(async (e) => {
      expect(await e.all(`SELECT CUSTOMER360_ID, CAST(AS_OF_DATE AS VARCHAR) AS d, CHURN_RISK, _LOAD_ID FROM CUSTOMER_360.CUSTOMER_RISK_SCORES ORDER BY d, 1`)).toEqual([
        { CUSTOMER360_ID: 'P1', d: '2026-03-01', CHURN_RISK: 0.2, _LOAD_ID: 'LOAD-OLD' },
        { CUSTOMER360_ID: 'P1', d: AS_OF, CHURN_RISK: 0.15, _LOAD_ID: 'LOAD-3' },
      ]);
      expect(await e.all(`SELECT SOURCE_SYSTEM, CUSTOMER_ID, _LOAD_ID FROM CUSTOMER_360.CUSTOMER_IDENTITY_MAP ORDER BY 1, 2`)).toEqual([
        { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C1', _LOAD_ID: 'LOAD-1' },
        { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C2', _LOAD_ID: 'LOAD-1' },
      ]);
      expect(await e.all(`SELECT ROW_COUNT, _LOAD_ID FROM OPS.LOAD_AUDIT WHERE TABLE_NAME = 'CUSTOMER_IDENTITY_MAP'`)).toEqual([{ ROW_COUNT: '2', _LOAD_ID: 'LOAD-3' }]);
    });
  });

  it('a snapshot with duplicate keys fails with the table, key and file, and changes nothing', async () => {
    const before = await withWarehouse(snapshotAll);
    const dup = { PRODUCT_ID: 'PR1', PRODUCT_NAME: 'x' };
    await writeGoldFixture(scratch, lake, join(home, 'tmp'), goldDir('dim_product', AS_OF), { PRODUCT_ID: 'VARCHAR', PRODUCT_NAME: 'VARCHAR' }, [dup, dup]);
    await expect(runLoad('LOAD-BAD')).rejects.toThrow(/CUSTOMER_360\.DIM_PRODUCT: duplicate key \(PRODUCT_ID\).*PR1.*dim_product\/as_of_date=2026-03-31/);
    const after = await withWarehouse(snapshotAll);
    for (const k of Object.keys(before)) if (k !== 'OPS.LOAD_AUDIT') expect(after[k], k).toBe(before[k]);
  });

  it('a first load (empty table, no staging) checks keys too: a duplicate or null key fails and leaves the table empty', async () => {
    const e = await Engine.open({ path: join(home, 'first-load.duckdb') });
    const tables = WAREHOUSE_TABLES.filter((t) => t.name === 'DIM_PRODUCT');
    const cols = { PRODUCT_ID: 'VARCHAR', PRODUCT_NAME: 'VARCHAR' };
    // A failed first load rolls back whole, table creation included: no table is no rows.
    const count = async (table: string) =>
      Number(await e.scalar(`SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name = '${table}'`)) ? Number(await e.scalar(`SELECT count(*) FROM ${table}`)) : 0;
    const rowsNow = async () => [await count('CUSTOMER_360.DIM_PRODUCT'), await count('OPS.LOAD_AUDIT')];
    try {
      const dup = { PRODUCT_ID: 'PR1', PRODUCT_NAME: 'x' };
      await writeGoldFixture(scratch, lake, join(home, 'tmp'), goldDir('dim_product', AS_OF), cols, [dup, { PRODUCT_ID: 'PR2', PRODUCT_NAME: 'y' }, dup]);
      await expect(loadWarehouse(e, lake, { asOf: AS_OF, loadId: 'F1', tables })).rejects.toThrow(/CUSTOMER_360\.DIM_PRODUCT: duplicate key \(PRODUCT_ID\).*PR1.*dim_product\/as_of_date=2026-03-31/);
      expect(await rowsNow()).toEqual([0, 0]);
      await writeGoldFixture(scratch, lake, join(home, 'tmp'), goldDir('dim_product', AS_OF), cols, [{ PRODUCT_ID: 'PR2', PRODUCT_NAME: 'y' }, { PRODUCT_ID: null, PRODUCT_NAME: 'nameless' }]);
      await expect(loadWarehouse(e, lake, { asOf: AS_OF, loadId: 'F2', tables })).rejects.toThrow(/CUSTOMER_360\.DIM_PRODUCT: null key \(PRODUCT_ID\).*nameless.*dim_product\/as_of_date=2026-03-31/);
      expect(await rowsNow()).toEqual([0, 0]);
      // a good snapshot then loads in full, audited
      await writeGoldFixture(scratch, lake, join(home, 'tmp'), goldDir('dim_product', AS_OF), cols, [{ PRODUCT_ID: 'PR2', PRODUCT_NAME: 'y' }, { PRODUCT_ID: 'PR3', PRODUCT_NAME: 'z' }]);
      await loadWarehouse(e, lake, { asOf: AS_OF, loadId: 'F3', tables });
      expect(await rowsNow()).toEqual([2, 1]);
    } finally {
      e.close();
    }
  });

  it('a snapshot without a key column fails naming the column', async () => {
    await writeGoldFixture(scratch, lake, join(home, 'tmp'), goldDir('dim_product', AS_OF), { NAME: 'VARCHAR' }, [{ NAME: 'x' }]);
    await expect(runLoad('LOAD-BAD2')).rejects.toThrow(/DIM_PRODUCT: Gold dataset gold\/customer360\/dim_product\/as_of_date=2026-03-31 lacks key column\(s\) PRODUCT_ID/);
    // restore the real snapshot
    await goldCustomerJob.run(makeJobContext({ home, lake, log: silentLogger, runId: 'g2', loadId: 'g2', runDate: AS_OF, asOf: AS_OF, params: {} }));
  });
});

describe('model and Gold agree', () => {
  it('every table column exists in its Gold dataset with the same DuckDB type', async () => {
    for (const t of WAREHOUSE_TABLES) {
      const files = (await sourceFiles(lake, t, AS_OF)).map((f) => join(home, 'lake', f));
      // (a dataset kept by day holds no file when it has no rows: personalization events without an earlier run)
      if (files.length === 0 && getDataset(t.source).maintenance === 'incremental-by-time') continue;
      expect(files.length, t.source).toBeGreaterThan(0);
      const cols = await scratch.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${litList(files)}, hive_partitioning = false)`);
      const gold = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
      const model = Object.fromEntries(t.columns.map((c) => [c.name, duckdbDialect.type(c.type)]));
      expect(model, `${t.schema}.${t.name} <- ${t.source}`).toEqual(gold);
    }
  });
});

describe('analyst queries', () => {
  const dir = join(import.meta.dirname, '..', 'snowflake', 'queries');
  const run = async (file: string) => withWarehouse(async (e) => e.all<Record<string, unknown>>(await readFile(join(dir, file), 'utf8')));

  it('the five queries are there', async () => {
    expect((await readdir(dir)).sort()).toEqual([
      'campaign-roi.sql', 'customer-health-overview.sql', 'funnel-conversion.sql', 'segment-sizes-and-value.sql', 'top-recommendations.sql',
    ]);
  });

  it('customer health overview adds up to DIM_CUSTOMER', async () => {
    const rows = await run('customer-health-overview.sql');
    expect(rows.map((r) => r.RFM_SEGMENT)).toEqual(['Hibernating', 'Loyal Customers', 'No Purchases']);
    expect(rows.reduce((a, r) => a + Number(r.CUSTOMERS), 0)).toBe(3);
    expect(rows.reduce((a, r) => a + Number(r.REVENUE), 0)).toBeCloseTo(475.5, 2);
    expect(rows.find((r) => r.RFM_SEGMENT === 'Loyal Customers')!.AVG_CHURN_RISK).toBe(0.15);
  });

  it('segment sizes and value', async () => {
    const rows = await run('segment-sizes-and-value.sql');
    expect(rows.map((r) => [r.SEGMENT_LABEL, Number(r.CUSTOMERS), r.SHARE_OF_CUSTOMERS])).toEqual([
      ['Lapsing big spenders', 1, 0.3333], ['Engaged regulars', 1, 0.3333], ['Prospects', 1, 0.3333],
    ]);
  });

  it('campaign ROI', async () => {
    const rows = await run('campaign-roi.sql');
    expect(rows.map((r) => [r.CAMPAIGN_ID, r.ROI_LAST_TOUCH, r.ROI_LINEAR, Number(r.PEOPLE_SENT)])).toEqual([
      ['CMP1', 0.4, 0.451, 2], ['CMP2', -0.745, -0.8725, 1],
    ]);
  });

  it('funnel conversion by week', async () => {
    const rows = await run('funnel-conversion.sql');
    const last = rows.at(-1)!;
    expect([last.WEEK_START, Number(last.VIEWERS), Number(last.CART_ADDERS), Number(last.PURCHASERS), last.VIEW_TO_CART_RATE]).toEqual(['2026-03-30', 2, 1, 1, 0.5]);
  });

  it('top recommendations with product names', async () => {
    const rows = await run('top-recommendations.sql');
    expect(rows.map((r) => [r.CUSTOMER360_ID, r.RANK, r.PRODUCT_ID, r.PRODUCT_NAME])).toEqual([
      ['P1', 1, 'PR3', 'Coat'], ['P1', 2, 'PR2', 'Tote'], ['P2', 1, 'PR1', 'Runner 2'],
    ]);
  });
});
